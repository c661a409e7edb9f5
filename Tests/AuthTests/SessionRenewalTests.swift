import Auth
import Crypto
import Foundation
import Persistence
import Tenancy
import TestKit
import Testing

/// A session's life without HTTP: a refresh token rotates once, an old one coming back ends the session
/// (audited) so the newest is refused too, and logout ends a session once (audited once) while a token of
/// another tenant's session ends nothing.
@Suite(.timeLimit(.minutes(2))) struct SessionRenewalTests {
    static let policy = SessionPolicy(idle: .seconds(3600), absolute: .seconds(86_400))

    /// A tenant with its owner, a session of theirs, and the services that renew it.
    static func started(_ database: Database) async throws -> (TenantID, SignedIn, SessionRenewal) {
        let sessions = SessionRepository(box: SecretBox(key: SymmetricKey(size: .bits256)))
        let (userID, email) = (UUID(), "m-\(UUID().uuidString.prefix(8).lowercased())@example.com")
        let tenantID = try await TestDatabase.tenant(in: database, prefix: "renew") { transaction in
            try await UserRepository().insert(
                UserRecord(
                    id: userID, tenantID: transaction.tenantID, email: email, role: .owner,
                    passwordHash: "not-a-hash", createdAt: Date()), in: transaction)
        }
        let member = UserRecord(
            id: userID, tenantID: tenantID, email: email, role: .owner, passwordHash: "not-a-hash", createdAt: Date())
        let signIn = SignIn(
            database: database, hasher: PasswordHasher(parameters: .init(memoryKiB: 64, iterations: 1)),
            decoyPasswordHash: "unused",
            throttles: .init(
                failuresPerEmail: FixedWindowThrottle(scope: "renew-email", limit: 100, window: .seconds(60)),
                perAddress: FixedWindowThrottle(scope: "renew-address", limit: 100, window: .seconds(60)),
                global: FixedWindowThrottle(scope: "renew-global", limit: 100, window: .seconds(60))),
            sessions: sessions, sessionPolicy: policy, clock: .system)
        let signedIn = try await signIn.start(for: member, method: .github, requestID: nil, clientAddress: "192.0.2.1")
        let renewal = SessionRenewal(
            database: database, sessions: sessions, sessionPolicy: policy, clock: .system,
            credentials: CredentialStateCache())
        return (tenantID, signedIn, renewal)
    }

    static func actions(_ database: Database, _ tenantID: TenantID) async throws -> [String] {
        try await database.withTenant(tenantID) {
            try await AuditLog().list(limit: 10, after: nil, in: $0).items.map(\.entry.action).sorted()
        }
    }

    @Test func anOldTokenComingBackEndsTheSession() async throws {
        try await TestDatabase.with { database in
            let (tenantID, first, renewal) = try await Self.started(database)
            guard
                case .rotated(let second) = try await renewal.refresh(first.refresh, requestID: nil, clientAddress: nil)
            else {
                Issue.record("the first refresh should rotate")
                return
            }
            #expect(second.session.id == first.session.id && second.refresh.generation == first.refresh.generation + 1)
            guard case .reused = try await renewal.refresh(first.refresh, requestID: "r-reuse", clientAddress: nil)
            else {
                Issue.record("the old token should be reuse")
                return
            }
            guard case .refused = try await renewal.refresh(second.refresh, requestID: nil, clientAddress: nil) else {
                Issue.record("the session should have ended")
                return
            }
            #expect(try await Self.actions(database, tenantID) == ["session.reuse_detected", "user.login"])
        }
    }

    @Test func logoutEndsASessionOnceAndOnlyInItsTenant() async throws {
        try await TestDatabase.with { database in
            let (tenantID, signedIn, renewal) = try await Self.started(database)
            let (_, other, _) = try await Self.started(database)
            // A token naming this tenant with another session's id and seed was not issued here.
            let forged = RefreshToken(
                tenantID: tenantID, sessionID: other.session.id, generation: 0, seed: Data(repeating: 7, count: 32))
            #expect(try await renewal.logout(forged, requestID: nil, clientAddress: nil) == false)
            #expect(try await renewal.logout(signedIn.refresh, requestID: "r-out", clientAddress: nil))
            #expect(try await renewal.logout(signedIn.refresh, requestID: "r-out-2", clientAddress: nil))
            guard case .refused = try await renewal.refresh(signedIn.refresh, requestID: nil, clientAddress: nil) else {
                Issue.record("a logged-out session should not rotate")
                return
            }
            #expect(try await Self.actions(database, tenantID) == ["user.login", "user.logout"])
        }
    }
}
