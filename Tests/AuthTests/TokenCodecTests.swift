import Foundation
import Tenancy
import Testing

@testable import Auth

@Suite struct TokenCodecTests {
    let codec = TokenCodec(issuer: "iss", audience: "aud", leeway: 30)
    let key = SigningKey.generate()

    func claims(exp: Int64 = 3600, nbf: Int64 = 0) -> Claims {
        let now = Int64(Date().timeIntervalSince1970)
        return Claims(
            iss: "iss", aud: "aud", sub: "s", jti: "j", tid: nil, scp: [], iat: now, nbf: now + nbf, exp: now + exp,
            kind: .apiKey)
    }

    @Test func aSignedTokenVerifiesWithItsKeyOnly() throws {
        let token = try codec.sign(claims(), with: key)
        let verified = try codec.verifySignature(token) { $0 == key.kid ? key.publicKey : nil }
        try codec.validate(verified)
        #expect(throws: TokenError.unknownKeyID) { try codec.verifySignature(token) { _ in nil } }
        let other = SigningKey(kid: key.kid, privateKey: .init(), createdAt: Date())
        #expect(throws: TokenError.badSignature) { try codec.verifySignature(token) { _ in other.publicKey } }
    }

    @Test func leewayIsHonouredButNotMore() throws {
        try codec.validate(claims(exp: -20))
        #expect(throws: TokenError.expired) { try codec.validate(claims(exp: -40)) }
        try codec.validate(claims(nbf: 20))
        #expect(throws: TokenError.notYetValid) { try codec.validate(claims(nbf: 40)) }
    }

    @Test func jwksEntryIsAnOKPKeyWithoutPrivateParts() {
        let jwk = key.publicKey.jwk
        #expect(jwk["kty"] == "OKP" && jwk["crv"] == "Ed25519" && jwk["alg"] == "EdDSA")
        #expect(jwk["d"] == nil)
        #expect(Base64URL.decode(Substring(jwk["x"]!))?.count == 32)
    }
}

@Suite struct PasswordHasherTests {
    @Test func argon2idHashesVerifyOnlyTheirPassword() async throws {
        let hasher = PasswordHasher()
        let hash = try await hasher.hash("correct horse battery")
        #expect(hash.hasPrefix("$argon2id$v=19$m=19456,t=2,p=1$"))
        #expect(try await hasher.verify("correct horse battery", encoded: hash))
        #expect(try await !hasher.verify("correct horse batterz", encoded: hash))
        #expect(try await hasher.hash("correct horse battery") != hash)
    }
}
