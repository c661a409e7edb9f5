import Crypto
import Foundation
import Persistence

/// An Ed25519 key that signs tokens, named by its `kid`.
public struct SigningKey: Sendable {
    public let kid: String
    public let privateKey: Curve25519.Signing.PrivateKey
    public let createdAt: Date
    /// From when it signs new tokens (it verifies from creation on).
    public let activatesAt: Date
    /// From when it neither signs nor verifies; nil while it has no retirement scheduled.
    public let retiresAt: Date?

    public init(
        kid: String, privateKey: Curve25519.Signing.PrivateKey, createdAt: Date, activatesAt: Date? = nil,
        retiresAt: Date? = nil
    ) {
        self.kid = kid
        self.privateKey = privateKey
        self.createdAt = createdAt
        self.activatesAt = activatesAt ?? createdAt
        self.retiresAt = retiresAt
    }

    /// Whether tokens signed with it are accepted at `now`.
    public func isVerifying(at now: Date) -> Bool { retiresAt.map { $0 > now } ?? true }

    /// A fresh key with a random `kid`, signing from `activatesAt` (default: at once).
    public static func generate(now: Date = Date(), activatesAt: Date? = nil) -> SigningKey {
        var kidBytes = [UInt8](repeating: 0, count: 12)
        for index in kidBytes.indices { kidBytes[index] = UInt8.random(in: .min ... .max) }
        return SigningKey(
            kid: Base64URL.encode(kidBytes), privateKey: .init(), createdAt: now, activatesAt: activatesAt)
    }

    public var publicKey: VerificationKey {
        VerificationKey(kid: kid, publicKey: privateKey.publicKey)
    }
}

/// The public half of a signing key, as published at `/.well-known/jwks.json`.
public struct VerificationKey: Sendable {
    public let kid: String
    public let publicKey: Curve25519.Signing.PublicKey

    public init(kid: String, publicKey: Curve25519.Signing.PublicKey) {
        self.kid = kid
        self.publicKey = publicKey
    }

    /// The key's JWK fields: `kty`, `crv`, `x`, `kid`, `alg`, `use`.
    public var jwk: [String: String] {
        [
            "kty": "OKP", "crv": "Ed25519", "x": Base64URL.encode(publicKey.rawRepresentation), "kid": kid,
            "alg": "EdDSA", "use": "sig",
        ]
    }
}
