import Auth
import Crypto
import Foundation
import HummingbirdTesting
import JWTKit
import Persistence
import Testing

/// Tokens signed with the server's own key (read from Postgres with the master key), so each test can
/// change exactly one thing about an otherwise valid token.
struct TokenForge {
    let key: SigningKey
    let codec = TokenCodec(issuer: "controlplane", audience: "controlplane-api")

    static func load() async throws -> TokenForge {
        let configuration = try TestEnvironment.configuration
        return try await TestEnvironment.withDatabase { client in
            let keyring = SigningKeyring(
                database: Database(client: client, logger: TestEnvironment.logger),
                box: try SecretBox(base64MasterKey: configuration.sealing.masterKey), logger: TestEnvironment.logger)
            return TokenForge(key: try await keyring.currentSigningKey())
        }
    }

    func claims(for tenant: SignedUpTenant) -> Claims {
        let now = Int64(Date().timeIntervalSince1970)
        return Claims(
            iss: "controlplane", aud: "controlplane-api", sub: tenant.keyID, jti: tenant.keyID, tid: tenant.tenantID,
            scp: Scope.allCases.map(\.rawValue), iat: now, nbf: now, exp: now + 3600, kind: .apiKey)
    }

    func token(
        for tenant: SignedUpTenant, signedWith key: SigningKey? = nil, _ change: (inout Claims) -> Void = { _ in }
    )
        throws -> String
    {
        var claims = claims(for: tenant)
        change(&claims)
        return try codec.sign(claims, with: key ?? self.key)
    }
}

private func base64URL(_ data: Data) -> String {
    data.base64EncodedString().replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_")
        .replacingOccurrences(of: "=", with: "")
}

@Suite(.timeLimit(.minutes(3))) struct TokenTests {
    @Test func aForgedTokenIsRefusedWhateverItChanges() async throws {
        let forge = try await TokenForge.load()
        try await TestEnvironment.withApp { client in
            let tenant = try await client.signup()
            // The control: the forge makes tokens the server accepts.
            #expect(try await client.send(.get, "/v1/tenant", token: try forge.token(for: tenant)).status == .ok)

            let now = Int64(Date().timeIntervalSince1970)
            let valid = try forge.token(for: tenant)
            let parts = valid.split(separator: ".").map(String.init)
            var escalated = forge.claims(for: tenant)
            escalated.tid = UUID().uuidString.lowercased()
            let tamperedPayload = base64URL(try JSONEncoder().encode(escalated))
            let noneHeader = base64URL(Data(#"{"alg":"none","typ":"JWT"}"#.utf8))
            let hmacHeader = base64URL(Data(#"{"alg":"HS256","kid":"\#(forge.key.kid)","typ":"JWT"}"#.utf8))
            let hmacSignature = base64URL(
                Data(
                    HMAC<SHA256>.authenticationCode(
                        for: Data((hmacHeader + "." + parts[1]).utf8),
                        using: SymmetricKey(data: forge.key.privateKey.publicKey.rawRepresentation))))

            let refused: [(String, String)] = [
                ("alg none", noneHeader + "." + parts[1] + "."),
                ("alg none with signature", noneHeader + "." + parts[1] + "." + parts[2]),
                ("HS256 keyed with the public key", hmacHeader + "." + parts[1] + "." + hmacSignature),
                (
                    "foreign key under our kid",
                    try forge.token(
                        for: tenant, signedWith: SigningKey(kid: forge.key.kid, privateKey: .init(), createdAt: Date()))
                ),
                ("unknown kid", try forge.token(for: tenant, signedWith: SigningKey.generate())),
                (
                    "expired",
                    try forge.token(for: tenant) {
                        $0.exp = now - 3600
                        $0.iat = now - 7200
                        $0.nbf = now - 7200
                    }
                ),
                ("not yet valid", try forge.token(for: tenant) { $0.nbf = now + 3600 }),
                ("issued in the future", try forge.token(for: tenant) { $0.iat = now + 3600 }),
                ("wrong issuer", try forge.token(for: tenant) { $0.iss = "someone-else" }),
                ("wrong audience", try forge.token(for: tenant) { $0.aud = Audience(["another-api"]) }),
                ("tampered claim", parts[0] + "." + tamperedPayload + "." + parts[2]),
                ("truncated signature", parts[0] + "." + parts[1] + "." + parts[2].dropLast(4)),
                ("key of another tenant", try forge.token(for: tenant) { $0.tid = UUID().uuidString.lowercased() }),
                (
                    "key that does not exist",
                    try forge.token(for: tenant) {
                        $0.sub = UUID().uuidString
                        $0.jti = $0.sub
                    }
                ),
                ("garbage", "not.a.token"),
                ("empty", ""),
            ]
            for (name, token) in refused {
                let response = try await client.send(.get, "/v1/tenant", token: token)
                #expect(response.status == .unauthorized, "\(name) answered \(response.status)")
                try response.expectProblem(401, "unauthenticated")
            }
            try await client.send(.get, "/v1/tenant").expectProblem(401, "unauthenticated")
        }
    }

    @Test func revokedKeyIsRefusedAtOnce() async throws {
        try await TestEnvironment.withApp { client in
            let tenant = try await client.signup()
            let key = try await client.createKey(token: tenant.token, scopes: ["tenant:read"])
            #expect(try await client.send(.get, "/v1/tenant", token: key.token).status == .ok)
            #expect(try await client.send(.delete, "/v1/keys/\(key.id)", token: tenant.token).status == .noContent)
            try await client.send(.get, "/v1/tenant", token: key.token).expectProblem(401, "unauthenticated")
            // A revoked key is gone from the API (the audit log keeps its history); revoking it again is a 404.
            try await client.send(.get, "/v1/keys/\(key.id)", token: tenant.token).expectProblem(404, "not_found")
            try await client.send(.delete, "/v1/keys/\(key.id)", token: tenant.token).expectProblem(404, "not_found")
            let list = try await client.send(.get, "/v1/keys", token: tenant.token).jsonObject()
            #expect((list["items"] as? [[String: Any]] ?? []).allSatisfy { $0["id"] as? String != key.id })
        }
    }

    @Test func missingScopeAnswers403() async throws {
        try await TestEnvironment.withApp { client in
            let tenant = try await client.signup()
            let reader = try await client.createKey(token: tenant.token, scopes: ["tenant:read"])
            try await client.send(.get, "/v1/keys", token: reader.token).expectProblem(403, "forbidden")
            try await client.send(.patch, "/v1/tenant", token: reader.token, json: ["name": "x"]).expectProblem(
                403, "forbidden")
            try await client.send(.get, "/v1/audit-log", token: reader.token).expectProblem(403, "forbidden")
        }
    }

    @Test func aKeyCannotGrantMoreScopesOrALongerLifeThanItHas() async throws {
        try await TestEnvironment.withApp { client in
            let tenant = try await client.signup()
            let limited = try await client.createKey(
                token: tenant.token, scopes: ["keys:read", "keys:write"], expiresIn: 3600)
            let moreScopes = try await client.send(
                .post, "/v1/keys", token: limited.token, json: ["name": "x", "scopes": ["keys:read", "tenant:admin"]])
            try moreScopes.expectProblem(403, "forbidden")
            let longerLife = try await client.send(
                .post, "/v1/keys", token: limited.token,
                json: ["name": "x", "scopes": ["keys:read"], "expires_in_seconds": 7200])
            try longerLife.expectProblem(403, "forbidden")
            // Within its bounds it may create keys, and by default they expire with it.
            let allowed = try await client.send(
                .post, "/v1/keys", token: limited.token, json: ["name": "x", "scopes": ["keys:read"]])
            #expect(allowed.status == .created)
            let limitedKey = try await client.send(.get, "/v1/keys/\(limited.id)", token: tenant.token).jsonObject()
            #expect(try allowed.jsonObject()["expires_at"] as? String == limitedKey["expires_at"] as? String)
            // Rotation cannot be used to escalate either.
            let rotate = try await client.send(
                .post, "/v1/keys/\(tenant.keyID)/rotate", token: limited.token, json: ["grace_seconds": 0])
            try rotate.expectProblem(403, "forbidden")
        }
    }

    /// An independent JWT implementation (jwt-kit) accepts our tokens through our JWKS, and we refuse
    /// its tokens signed with a key we never published.
    @Test func tokensInteroperateWithAnIndependentJWTLibrary() async throws {
        struct Payload: JWTPayload {
            var sub: SubjectClaim
            var exp: ExpirationClaim
            var iss: IssuerClaim
            var aud: AudienceClaim
            var tid: String
            var scp: [String]
            var jti: String
            var iat: IssuedAtClaim
            var nbf: NotBeforeClaim
            var kind: String
            func verify(using algorithm: some JWTAlgorithm) async throws {
                try exp.verifyNotExpired()
                try aud.verifyIntendedAudience(includes: "controlplane-api")
            }
        }
        try await TestEnvironment.withApp { client in
            let tenant = try await client.signup()
            let jwks = try await client.send(.get, "/.well-known/jwks.json")
            let verifier = JWTKeyCollection()
            try await verifier.add(jwksJSON: String(buffer: jwks.body))
            let payload = try await verifier.verify(tenant.token, as: Payload.self)
            #expect(payload.tid == tenant.tenantID)
            #expect(payload.sub.value == tenant.keyID)

            let foreign = JWTKeyCollection()
            await foreign.add(eddsa: try EdDSA.PrivateKey(curve: .ed25519), kid: "foreign")
            let forged = try await foreign.sign(payload, kid: "foreign")
            try await client.send(.get, "/v1/tenant", token: forged).expectProblem(401, "unauthenticated")
        }
    }
}
