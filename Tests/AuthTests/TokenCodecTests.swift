import Foundation
import Persistence
import Testing

@testable import Auth

@Suite(.timeLimit(.minutes(3))) struct TokenCodecTests {
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

@Suite(.timeLimit(.minutes(3))) struct PasswordHasherTests {
    @Test func argon2idHashesVerifyOnlyTheirPassword() async throws {
        let hasher = PasswordHasher()
        let hash = try await hasher.hash("correct horse battery")
        #expect(hash.hasPrefix("$argon2id$v=19$m=19456,t=2,p=1$"))
        #expect(try await hasher.verify("correct horse battery", encoded: hash))
        #expect(try await !hasher.verify("correct horse batterz", encoded: hash))
        #expect(try await hasher.hash("correct horse battery") != hash)
    }
}

@Suite(.timeLimit(.minutes(3))) struct TokenCodecEdgeTests {
    let codec = TokenCodec(issuer: "iss", audience: "aud", operatorAudience: "ops", leeway: 30)

    func claims(kind: Claims.Kind, aud: String, exp: Int64, nbf: Int64 = 0, iat: Int64 = 0) -> Claims {
        Claims(iss: "iss", aud: aud, sub: "s", jti: "j", tid: nil, scp: [], iat: iat, nbf: nbf, exp: exp, kind: kind)
    }

    /// Signed claims at the edges of Int64 are compared without arithmetic that could trap.
    @Test func extremeTimesAreRefusedNotTrapped() {
        #expect(throws: TokenError.expired) { try codec.validate(claims(kind: .apiKey, aud: "aud", exp: .min)) }
        #expect(throws: TokenError.notYetValid) {
            try codec.validate(claims(kind: .apiKey, aud: "aud", exp: .max, nbf: .max))
        }
        #expect(throws: TokenError.notYetValid) {
            try codec.validate(claims(kind: .apiKey, aud: "aud", exp: .max, iat: .max))
        }
        #expect(throws: Never.self) {
            try codec.validate(claims(kind: .apiKey, aud: "aud", exp: .max, nbf: .min, iat: .min))
        }
    }

    @Test func operatorTokensNeedTheOperatorAudienceAndOthersTheirOwn() {
        let far = Int64(Date().timeIntervalSince1970) + 600
        #expect(throws: Never.self) { try codec.validate(claims(kind: .operator, aud: "ops", exp: far)) }
        #expect(throws: TokenError.wrongAudience) { try codec.validate(claims(kind: .operator, aud: "aud", exp: far)) }
        #expect(throws: TokenError.wrongAudience) { try codec.validate(claims(kind: .apiKey, aud: "ops", exp: far)) }
    }
}

@Suite(.timeLimit(.minutes(3))) struct BoundedHasherTests {
    /// With one thread and no queue, a second concurrent hash is refused at once instead of waiting.
    @Test func aFullHashingPoolRefusesInsteadOfQueueing() async throws {
        let hasher = PasswordHasher(
            parameters: .init(memoryKiB: 65_536, iterations: 8), threads: 1, queueDepth: 0)
        let outcomes = await withTaskGroup(of: Bool.self) { group in
            for _ in 0..<6 {
                group.addTask {
                    do {
                        _ = try await hasher.hash("correct horse battery")
                        return true
                    } catch {
                        return !(error is PasswordHasher.Busy)
                    }
                }
            }
            return await group.reduce(into: [Bool]()) { $0.append($1) }
        }
        #expect(outcomes.contains(true))
        #expect(outcomes.contains(false), "no call was refused")
        // Once the pool is free again, hashing works.
        #expect(try await hasher.hash("correct horse battery").hasPrefix("$argon2id$"))
    }
}

@Suite(.timeLimit(.minutes(3))) struct CredentialStateCacheTests {
    let tenant = TenantID.generate()
    var state: CredentialStateCache.State {
        .init(tenantID: tenant, exists: true, revokedAt: nil, tenantStatus: .active)
    }

    /// Read, notify, store: the stale state must not be kept.
    @Test func aStateReadBeforeAnInvalidationIsNotStored() {
        let cache = CredentialStateCache()
        cache.heartbeat()
        let key = UUID()
        let generation = cache.generation
        cache.apply(notification: "key:\(key.uuidString)")
        #expect(!cache.store(state, for: key, readAt: generation))
        #expect(cache.state(for: key) == nil)
        #expect(cache.store(state, for: key, readAt: cache.generation))
        #expect(cache.state(for: key) == state)
    }

    @Test func nothingIsTrustedWhileTheHeartbeatIsLate() {
        let cache = CredentialStateCache(heartbeatTolerance: .milliseconds(100))
        let key = UUID()
        #expect(cache.store(state, for: key, readAt: cache.generation))
        #expect(cache.state(for: key) == nil, "no heartbeat heard yet")
        cache.heartbeat()
        #expect(cache.state(for: key) == state)
        cache.heartbeat(at: .now - .seconds(1))
        #expect(cache.state(for: key) == state, "an older heartbeat heard late does not move the clock back")
        // A heartbeat counts from when it was sent: one sent a second ago vouches for nothing now.
        let late = CredentialStateCache(heartbeatTolerance: .milliseconds(100))
        #expect(late.store(state, for: key, readAt: late.generation))
        late.heartbeat(at: .now - .seconds(1))
        #expect(late.state(for: key) == nil, "heartbeat late")
        cache.listenerLost()
        #expect(cache.state(for: key) == nil, "listener lost")
    }
}
