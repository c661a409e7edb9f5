import Foundation
import Tenancy

/// Mints the three kinds of token, always with the keyring's current signing key.
public struct TokenIssuer: Sendable {
    public let codec: TokenCodec
    public let keyring: SigningKeyring

    public init(codec: TokenCodec, keyring: SigningKeyring) {
        self.codec = codec
        self.keyring = keyring
    }

    /// The token of an API key: `sub` and `jti` are the key id, `exp` its expiry.
    public func apiKeyToken(for key: ApiKeyRecord, now: Date = Date()) async throws -> String {
        let id = key.id.uuidString.lowercased()
        let issuedAt = Self.seconds(now)
        let claims = Claims(
            iss: codec.issuer, aud: codec.audience, sub: id, jti: id, tid: key.tenantID.description,
            scp: key.scopes.sorted().map(\.rawValue), iat: issuedAt, nbf: issuedAt,
            exp: Self.seconds(key.expiresAt), kind: .apiKey)
        return try codec.sign(claims, with: try await keyring.currentSigningKey())
    }

    /// A short-lived login access token carrying the user's role scopes, bound to `session` (it expires
    /// with the session at the latest, and stops when the session ends).
    public func accessToken(for user: UserRecord, session: SessionRecord, lifetime: Duration, now: Date) async throws
        -> String
    {
        let issuedAt = Self.seconds(now)
        let sessionEnd = Self.seconds(session.endsAt)
        let claims = Claims(
            iss: codec.issuer, aud: codec.audience, sub: user.id.uuidString.lowercased(),
            jti: UUID().uuidString.lowercased(), tid: user.tenantID.description,
            scp: user.role.scopes.sorted().map(\.rawValue), iat: issuedAt, nbf: issuedAt,
            exp: min(issuedAt + lifetime.components.seconds, sessionEnd), kind: .access,
            sid: session.id.uuidString.lowercased())
        return try codec.sign(claims, with: try await keyring.currentSigningKey())
    }

    /// An operator token for `/v1/admin/*`, with the operator claim and no tenant.
    public func operatorToken(subject: String, lifetime: Duration, now: Date = Date()) async throws -> String {
        let issuedAt = Self.seconds(now)
        let claims = Claims(
            iss: codec.issuer, aud: codec.operatorAudience, sub: "operator:\(subject)",
            jti: UUID().uuidString.lowercased(),
            tid: nil, scp: [], iat: issuedAt, nbf: issuedAt, exp: issuedAt + lifetime.components.seconds,
            kind: .operator, op: true)
        return try codec.sign(claims, with: try await keyring.currentSigningKey())
    }

    /// Whole seconds since 1970 for a claim, between 0 and the end of year 9999 whatever the date holds,
    /// so no clock or stored time can make the conversion trap.
    static func seconds(_ date: Date) -> Int64 {
        date.timeIntervalSince1970.roundedDown(atLeast: 0, atMost: 253_402_300_799)
    }
}
