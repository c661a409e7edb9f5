import Foundation

/// The payload of every token this server signs.
public struct Claims: Codable, Sendable, Equatable {
    /// What a token stands for.
    public enum Kind: String, Codable, Sendable {
        /// An API key: `sub` and `jti` are the key id; revocable.
        case apiKey = "api_key"
        /// A login access token: `sub` is the user id; short-lived.
        case access
        /// An operator token: reaches `/v1/admin/*` only.
        case `operator`
    }

    public var iss: String
    public var aud: Audience
    public var sub: String
    public var jti: String
    public var tid: String?
    public var scp: [String]
    public var iat: Int64
    public var nbf: Int64
    public var exp: Int64
    public var kind: Kind
    /// The operator claim; true only on operator tokens.
    public var op: Bool?
    /// The session of a login access token: it stops when the session ends.
    public var sid: String?

    public init(
        iss: String, aud: String, sub: String, jti: String, tid: String?, scp: [String], iat: Int64, nbf: Int64,
        exp: Int64, kind: Kind, op: Bool? = nil, sid: String? = nil
    ) {
        self.iss = iss
        self.aud = Audience([aud])
        self.sub = sub
        self.jti = jti
        self.tid = tid
        self.scp = scp
        self.iat = iat
        self.nbf = nbf
        self.exp = exp
        self.kind = kind
        self.op = op
        self.sid = sid
    }
}

/// The `aud` claim: one string or an array of strings (RFC 7519 §4.1.3).
public struct Audience: Codable, Sendable, Equatable {
    public let values: [String]

    public init(_ values: [String]) { self.values = values }

    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if let single = try? container.decode(String.self) {
            values = [single]
        } else {
            values = try container.decode([String].self)
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        if values.count == 1 { try container.encode(values[0]) } else { try container.encode(values) }
    }
}
