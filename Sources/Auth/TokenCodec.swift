import Crypto
import Foundation
import Persistence

/// Signs and verifies compact JWS tokens (RFC 7515) with Ed25519 only. The algorithm is pinned: the
/// header must say `EdDSA` and name a known `kid`; `none`, HMAC or any other algorithm is refused
/// before any key is touched, and there is no default key for a token without a `kid`.
public struct TokenCodec: Sendable {
    struct Header: Codable {
        var alg: String
        var kid: String?
        var typ: String?
    }

    public let issuer: String
    public let audience: String
    /// The audience of operator tokens, distinct so that no tenant token can pass for one.
    public let operatorAudience: String
    /// Clock skew tolerated on `exp`, `nbf` and `iat`.
    public let leeway: Int64

    public init(
        issuer: String, audience: String, operatorAudience: String = "controlplane-operator", leeway: Int64 = 30
    ) {
        self.issuer = issuer
        self.audience = audience
        self.operatorAudience = operatorAudience
        self.leeway = min(max(leeway, 0), 60)
    }

    private static let encoder: JSONEncoder = {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        return encoder
    }()

    /// Signs `claims` with `key`.
    public func sign(_ claims: Claims, with key: SigningKey) throws -> String {
        let header = try Self.encoder.encode(Header(alg: "EdDSA", kid: key.kid, typ: "JWT"))
        let payload = try Self.encoder.encode(claims)
        let signingInput = Base64URL.encode(header) + "." + Base64URL.encode(payload)
        let signature = try key.privateKey.signature(for: Data(signingInput.utf8))
        return signingInput + "." + Base64URL.encode(signature)
    }

    /// Checks the signature of `token` against `keys` and returns its claims, without time checks.
    public func verifySignature(_ token: String, keys: (String) -> VerificationKey?) throws(TokenError) -> Claims {
        guard token.utf8.count <= 8192 else { throw .malformed }
        let parts = token.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3, !parts[0].isEmpty, !parts[1].isEmpty else { throw .malformed }
        guard !parts[2].isEmpty else { throw .unsupportedAlgorithm }
        guard let headerData = Base64URL.decode(parts[0]),
            let header = try? JSONDecoder().decode(Header.self, from: headerData)
        else { throw .malformed }
        guard header.alg == "EdDSA" else { throw .unsupportedAlgorithm }
        guard let kid = header.kid, let key = keys(kid) else { throw .unknownKeyID }
        guard let signature = Base64URL.decode(parts[2]) else { throw .malformed }
        let signingInput = token.utf8.prefix(parts[0].utf8.count + 1 + parts[1].utf8.count)
        guard key.publicKey.isValidSignature(signature, for: Data(signingInput)) else { throw .badSignature }
        guard let payloadData = Base64URL.decode(parts[1]),
            let claims = try? JSONDecoder().decode(Claims.self, from: payloadData)
        else { throw .malformed }
        return claims
    }

    /// Checks issuer, audience and validity window of already signature-checked claims.
    public func validate(_ claims: Claims, now: Date = Date()) throws(TokenError) {
        guard claims.iss == issuer else { throw .wrongIssuer }
        let expected = claims.kind == .operator ? operatorAudience : audience
        guard claims.aud.values.contains(expected) else { throw .wrongAudience }
        // Compared as Doubles: Int64 to Double cannot trap or overflow, whatever the claims hold, and the
        // clock is never converted to an integer.
        let seconds = now.timeIntervalSince1970
        let leeway = Double(self.leeway)
        guard Double(claims.exp) > seconds - leeway else { throw .expired }
        guard Double(claims.nbf) <= seconds + leeway, Double(claims.iat) <= seconds + leeway else {
            throw .notYetValid
        }
    }
}
