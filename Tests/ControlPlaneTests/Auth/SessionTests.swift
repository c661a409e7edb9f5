import ControlPlane
import Foundation
import HTTPTypes
import HummingbirdTesting
import Persistence
import Runtime
import TestKit
import Testing

/// Issue 9, sessions: refresh tokens rotate and work once; an old one coming back ends the whole
/// session; logout ends it on every replica within a second; a session ends after its idle time and at
/// its absolute end, seen here by moving the server's clock forward.
@Suite(.timeLimit(.minutes(3))) struct SessionTests {
    /// A session policy short enough to cross by moving the clock: 1 hour idle, 3 hours in all.
    static func configure(_ clock: ServerClock) -> (inout Configuration) -> Void {
        { configuration in
            configuration.clock = clock
            configuration.auth.sessionPolicy = .init(idle: .seconds(3600), absolute: .seconds(3 * 3600))
        }
    }

    @Test func refreshTokensRotateAndAReusedOneEndsTheSession() async throws {
        try await TestEnvironment.withApp { client in
            let tenant = try await client.signup()
            let first = try await client.signIn(tenant.email, tenant.password)
            #expect(first.refreshExpiresIn > 0 && first.expiresIn > 0)
            let second = try await client.refresh(first.refresh)
            #expect(second.status == .ok)
            let rotated = try second.session()
            #expect(rotated.refresh != first.refresh && rotated.access != first.access)
            #expect(try await client.send(.get, "/v1/tenant", token: rotated.access).status == .ok)
            #expect(try await client.send(.get, "/v1/tenant", token: first.access).status == .ok)
            let third = try await client.refresh(rotated.refresh).session()

            // The first token again: theft. The session ends: its newest refresh token and every access
            // token it issued stop.
            try await client.refresh(first.refresh).expectProblem(401, "unauthenticated")
            try await client.refresh(third.refresh).expectProblem(401, "unauthenticated")
            for access in [first.access, rotated.access, third.access] {
                try await client.send(.get, "/v1/tenant", token: access).expectProblem(401, "unauthenticated")
            }
            // Another sign-in is another session, untouched.
            let other = try await client.signIn(tenant.email, tenant.password)
            #expect(try await client.send(.get, "/v1/tenant", token: other.access).status == .ok)
            #expect(try await client.refresh(other.refresh).status == .ok)

            let audit = try await client.send(.get, "/v1/audit-log?limit=100", token: tenant.token).jsonObject()
            let reuse = (audit["items"] as? [[String: Any]] ?? []).filter {
                $0["action"] as? String == "session.reuse_detected"
            }
            #expect(reuse.count == 1)
            #expect((reuse.first?["details"] as? [String: String])?["generation"] == "0")
            let metrics = String(buffer: try await client.send(.get, "/metrics").body)
            for line in [
                #"controlplane_session_refreshes_total{outcome="reused"} 1"#,
                #"controlplane_session_refreshes_total{outcome="rotated"} 3"#,
                #"controlplane_session_refreshes_total{outcome="refused"} 1"#,
                #"controlplane_signins_total{method="password",outcome="succeeded"} 2"#,
            ] {
                #expect(metrics.contains(line + "\n"), "\(line)")
            }
        }
    }

    /// The replica that ends a session or changes a member stops what it ended before it answers, without
    /// waiting to hear its own announcement. Here its listener hears another database (`postgres`; a
    /// notification reaches only listeners of its own database): its own heartbeats
    /// keep its cache trusted, and no invalidation ever arrives, so only the replica itself can do it.
    @Test func theReplicaThatEndsASessionStopsItBeforeItAnswers() async throws {
        var other = try #require(URLComponents(string: try TestEnvironment.configuration.database.url))
        other.path = "/postgres"
        let elsewhere = try #require(other.string)
        try await TestEnvironment.withApp(configure: {
            $0.database.listenerURL = elsewhere
            $0.auth.credentialCacheTTL = .seconds(3600)
        }) { client in
            let tenant = try await client.signup()
            // The listener hears its own heartbeats: the cache is trusted (a request could read Postgres
            // otherwise, and the test would show nothing).
            let trusted = try await waitUntil(timeout: .seconds(10)) {
                let metrics = String(buffer: try await client.send(.get, "/metrics").body)
                return (RuntimeAPITests.value("controlplane_invalidation_heartbeat_age_seconds", in: metrics) ?? 99)
                    < 0.5
            }
            try #require(trusted != nil, "the listener never heard its heartbeat")

            // Logout.
            let loggedOut = try await client.signIn(tenant.email, tenant.password)
            #expect(try await client.send(.get, "/v1/tenant", token: loggedOut.access).status == .ok)
            let logout = try await client.send(.post, "/v1/auth/logout", json: ["refresh_token": loggedOut.refresh])
            #expect(logout.status == .noContent)
            try await client.send(.get, "/v1/tenant", token: loggedOut.access).expectProblem(401, "unauthenticated")

            // A refresh token used twice.
            let stolen = try await client.signIn(tenant.email, tenant.password)
            let rotated = try await client.refresh(stolen.refresh).session()
            #expect(try await client.send(.get, "/v1/tenant", token: rotated.access).status == .ok)
            try await client.refresh(stolen.refresh).expectProblem(401, "unauthenticated")
            try await client.send(.get, "/v1/tenant", token: rotated.access).expectProblem(401, "unauthenticated")

            // A member demoted (their session's role and the key beyond the new one), then removed.
            let member = try await client.join(tenant, role: "admin")
            let key = try await client.createKey(token: member.access, scopes: ["tenant:read", "keys:write"])
            #expect(try await client.send(.get, "/v1/tenant", token: key.token).status == .ok)
            let write = ["name": "x", "scopes": ["tenant:read"]] as [String: Any]
            #expect(try await client.send(.post, "/v1/keys", token: member.access, json: write).status == .created)
            #expect(try await client.patchRole(member.id, "member", token: tenant.token).status == .ok)
            try await client.send(.get, "/v1/tenant", token: key.token).expectProblem(401, "unauthenticated")
            try await client.send(.post, "/v1/keys", token: member.access, json: write).expectProblem(403, "forbidden")
            #expect(try await client.send(.get, "/v1/tenant", token: member.access).status == .ok)
            #expect(try await client.send(.delete, "/v1/users/\(member.id)", token: tenant.token).status == .ok)
            try await client.send(.get, "/v1/tenant", token: member.access).expectProblem(401, "unauthenticated")
        }
    }

    @Test func oneTokenPresentedTwiceAtOnceRotatesOnceAndEndsTheSession() async throws {
        try await TestEnvironment.withApp { client in
            let tenant = try await client.signup()
            let session = try await client.signIn(tenant.email, tenant.password)
            let statuses = try await withThrowingTaskGroup(of: Int.self) { group in
                for _ in 0..<2 { group.addTask { try await client.refresh(session.refresh).status.code } }
                return try await group.reduce(into: [Int]()) { $0.append($1) }
            }
            #expect(statuses.sorted() == [200, 401])
            try await client.send(.get, "/v1/tenant", token: session.access).expectProblem(401, "unauthenticated")
        }
    }

    @Test func logoutEndsTheSessionOnEveryReplicaWithin1s() async throws {
        try await TestEnvironment.withApp { replicaA in
            let tenant = try await replicaA.signup()
            let session = try await replicaA.signIn(tenant.email, tenant.password)
            #expect(try await replicaA.send(.get, "/v1/tenant", token: session.access).status == .ok)
            try await TestEnvironment.withApp { replicaB in
                let out = try await replicaB.send(
                    .post, "/v1/auth/logout", json: ["refresh_token": session.refresh])
                #expect(out.status == .noContent)
                // Twice is fine; a token that is no one's is not.
                #expect(
                    try await replicaB.send(.post, "/v1/auth/logout", json: ["refresh_token": session.refresh]).status
                        == .noContent)
                try await replicaB.send(.post, "/v1/auth/logout", json: ["refresh_token": "cprt_AAAA"])
                    .expectProblem(401, "unauthenticated")
            }
            let took = try await waitUntil(timeout: .seconds(1)) {
                try await replicaA.send(.get, "/v1/tenant", token: session.access).status == .unauthorized
            }
            #expect(took != nil, "the access token still worked on the other replica after a second")
            try await replicaA.refresh(session.refresh).expectProblem(401, "unauthenticated")
            let audit = try await replicaA.send(.get, "/v1/audit-log", token: tenant.token).jsonObject()
            let logouts = (audit["items"] as? [[String: Any]] ?? []).filter { $0["action"] as? String == "user.logout" }
            #expect(logouts.count == 1)
            #expect((logouts.first?["client_address"] as? String)?.isEmpty == false)
        }
    }

    @Test func aSessionEndsAfterItsIdleTime() async throws {
        let clock = ServerClock()
        try await TestEnvironment.withApp(configure: Self.configure(clock)) { client in
            let tenant = try await client.signup()
            let session = try await client.signIn(tenant.email, tenant.password)
            #expect(session.refreshExpiresIn == 3600)
            clock.advance(by: .seconds(50 * 60))
            let kept = try await client.refresh(session.refresh).session()
            #expect(kept.refreshExpiresIn == 3600, "a refresh moves the idle end on")
            clock.advance(by: .seconds(3601))
            try await client.refresh(kept.refresh).expectProblem(401, "unauthenticated")
            try await client.send(.get, "/v1/tenant", token: kept.access).expectProblem(401, "unauthenticated")
        }
    }

    @Test func aSessionEndsAtItsAbsoluteEndHoweverOftenItIsRefreshed() async throws {
        let clock = ServerClock()
        try await TestEnvironment.withApp(configure: Self.configure(clock)) { client in
            let tenant = try await client.signup()
            var session = try await client.signIn(tenant.email, tenant.password)
            // Every 50 minutes for 2 h 30 min: within the idle time each time.
            for _ in 0..<3 {
                clock.advance(by: .seconds(50 * 60))
                session = try await client.refresh(session.refresh).session()
            }
            #expect(
                (30 * 60 - 5...30 * 60).contains(session.refreshExpiresIn), "the absolute end comes before the idle end"
            )
            #expect(session.expiresIn <= 30 * 60)
            clock.advance(by: .seconds(30 * 60 + 1))
            try await client.send(.get, "/v1/tenant", token: session.access).expectProblem(401, "unauthenticated")
            try await client.refresh(session.refresh).expectProblem(401, "unauthenticated")
            // Signing in again starts a new session.
            let again = try await client.signIn(tenant.email, tenant.password)
            #expect(try await client.send(.get, "/v1/tenant", token: again.access).status == .ok)
        }
    }

    /// Sessions over and invitations used or expired go with the tenant's detail retention; a pending
    /// invitation stays.
    @Test func endedSessionsAndSpentInvitationsArePrunedWithTheDetail() async throws {
        try await TestEnvironment.withApp { client in
            let tenant = try await client.signup()
            let ended = try await client.signIn(tenant.email, tenant.password)
            #expect(
                try await client.send(.post, "/v1/auth/logout", json: ["refresh_token": ended.refresh]).status
                    == .noContent)
            let live = try await client.signIn(tenant.email, tenant.password)
            _ = try await client.join(tenant, role: "member")
            _ = try await client.invite("pending-\(uniqueSlug())@example.test", role: "member", token: tenant.token)
            let tenantID = try #require(TenantID(string: tenant.tenantID))
            let policy = RetentionPolicy(detailDays: [.free: 7], auditDays: [.free: 60])
            let pruned = try await TestEnvironment.withDatabase { pool in
                let pruner = RetentionPruner(
                    database: Database(client: pool, logger: TestEnvironment.logger), policy: policy, batchSize: 1)
                let today = try await pruner.prune(tenant: tenantID, plan: .free, now: Date())
                // Eight days on, the cutoff is a day from now, but the database never prunes past its own
                // clock: the logged-out session and the used invitation go; the two sessions still live
                // (idle for 12 hours) and the pending invitation stay.
                let weekOn = try await pruner.prune(tenant: tenantID, plan: .free, now: Date() + 8 * 86_400)
                let again = try await pruner.prune(tenant: tenantID, plan: .free, now: Date() + 8 * 86_400)
                return [today, weekOn, again]
            }
            #expect(pruned[0].sessions == 0 && pruned[0].invitations == 0, "\(pruned[0])")
            #expect(pruned[1].sessions == 1 && pruned[1].invitations == 1, "\(pruned[1])")
            #expect(pruned[2].sessions == 0 && pruned[2].invitations == 0)
            _ = live
        }
    }

    @Test func malformedAndForeignRefreshTokensAreRefusedAlike() async throws {
        try await TestEnvironment.withApp { client in
            let first = try await client.signup()
            let session = try await client.signIn(first.email, first.password)
            var forged = Array(session.refresh)
            forged[forged.count - 2] = forged[forged.count - 2] == "A" ? "B" : "A"
            for token in [String(forged), "cprt_" + String(repeating: "A", count: 91), "x", "cpinv_AAAA"] {
                try await client.refresh(token).expectProblem(401, "unauthenticated")
            }
            try await client.send(.post, "/v1/auth/refresh", json: ["refresh_token": ""]).expectProblem(
                400, "invalid_request")
            #expect(try await client.refresh(session.refresh).status == .ok, "a forged token harms no session")
        }
    }
}

/// A session as a sign-in or refresh answers it.
struct SignedInSession: Sendable {
    let access: String
    let refresh: String
    let expiresIn: Int
    let refreshExpiresIn: Int
}

extension TestResponse {
    func session(sourceLocation: SourceLocation = #_sourceLocation) throws -> SignedInSession {
        #expect(status == .ok, "answered \(status): \(String(buffer: body))", sourceLocation: sourceLocation)
        let object = try jsonObject()
        return SignedInSession(
            access: object["access_token"] as? String ?? "", refresh: object["refresh_token"] as? String ?? "",
            expiresIn: object["expires_in"] as? Int ?? -1, refreshExpiresIn: object["refresh_expires_in"] as? Int ?? -1)
    }
}

extension TestClientProtocol {
    func signIn(_ email: String, _ password: String) async throws -> SignedInSession {
        try await send(.post, "/v1/auth/login", json: ["email": email, "password": password]).session()
    }

    func refresh(_ token: String) async throws -> TestResponse {
        try await send(.post, "/v1/auth/refresh", json: ["refresh_token": token])
    }
}
