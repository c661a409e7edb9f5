import Auth
import Crypto
import Foundation
import Persistence
import Tenancy
import TestKit
import Testing

/// Signing in without HTTP: a wrong pair refused alike for known and unknown emails (the known one
/// audited), a right one starting an audited session and clearing the email's failures, attempts past the
/// email's limit refused before any hashing, and no session in a suspended tenant.
@Suite(.timeLimit(.minutes(2))) struct SignInTests {
    static let wrong = Refusal.unauthenticated("The email or password is wrong.")

    /// A tenant with one owner whose password is `password`; answers the tenant and the owner's email.
    static func account(in database: Database, hasher: PasswordHasher, password: String) async throws
        -> (TenantID, String)
    {
        let email = "owner-\(UUID().uuidString.prefix(8).lowercased())@example.com"
        let hash = try await hasher.hash(password)
        let tenantID = try await TestDatabase.tenant(in: database, prefix: "signin") { transaction in
            try await UserRepository().insert(
                UserRecord(
                    id: UUID(), tenantID: transaction.tenantID, email: email, role: .owner, passwordHash: hash,
                    createdAt: Date()), in: transaction)
        }
        return (tenantID, email)
    }

    /// A sign-in service whose limits are this test's own: `failures` per email, generous elsewhere.
    static func signIn(_ database: Database, hasher: PasswordHasher, failures: Int) -> SignIn {
        let scope = "test-\(UUID().uuidString.prefix(8))"
        return SignIn(
            database: database, hasher: hasher, decoyPasswordHash: PasswordHasher.decoyHash(parameters: parameters),
            throttles: .init(
                failuresPerEmail: FixedWindowThrottle(scope: "\(scope)-email", limit: failures, window: .seconds(600)),
                perAddress: FixedWindowThrottle(scope: "\(scope)-address", limit: 100, window: .seconds(60)),
                global: FixedWindowThrottle(scope: "\(scope)-global", limit: 100, window: .seconds(60))),
            sessions: SessionRepository(box: SecretBox(key: SymmetricKey(size: .bits256))),
            sessionPolicy: SessionPolicy(idle: .seconds(3600), absolute: .seconds(86_400)), clock: .system)
    }

    static let parameters = PasswordHasher.Parameters(memoryKiB: 64, iterations: 1)
    static let hasher = PasswordHasher(parameters: parameters)

    @Test func aWrongPasswordIsRefusedAndAuditedAndARightOneStartsASessionAndClearsFailures() async throws {
        try await TestDatabase.with { database in
            let (tenantID, email) = try await Self.account(in: database, hasher: Self.hasher, password: "right-pw-1")
            let signIn = Self.signIn(database, hasher: Self.hasher, failures: 3)
            func attempt(_ email: String, _ password: String) async -> Refusal? {
                await thrown(Refusal.self) {
                    _ = try await signIn.password(
                        email: email, password: password, requestID: "r-1", clientAddress: "192.0.2.9")
                }
            }
            #expect(await attempt(email, "wrong-pw-1") == Self.wrong)
            #expect(await attempt("nobody-\(UUID())@example.com", "right-pw-1") == Self.wrong)
            #expect(await attempt(email, "wrong-pw-2") == Self.wrong)
            // The email is normalised: case and surrounding spaces name the same account.
            let signedIn = try await signIn.password(
                email: " \(email.uppercased()) ", password: "right-pw-1", requestID: "r-2", clientAddress: "192.0.2.9")
            #expect(signedIn.user.email == email && signedIn.session.method == .password)
            #expect(signedIn.refresh.sessionID == signedIn.session.id && signedIn.refresh.tenantID == tenantID)
            // The success cleared the two failures: two more wrong attempts are refused, not limited.
            #expect(await attempt(email, "wrong-pw-3") == Self.wrong)
            #expect(await attempt(email, "wrong-pw-4") == Self.wrong)
            let events = try await database.withTenant(tenantID) {
                try await AuditLog().list(limit: 10, after: nil, in: $0).items.map(\.entry)
            }
            #expect(
                events.map(\.action).sorted()
                    == [
                        "user.login", "user.login_failed", "user.login_failed", "user.login_failed",
                        "user.login_failed",
                    ])
            #expect(events.allSatisfy { $0.clientAddress == "192.0.2.9" && $0.details["method"] == "password" })
        }
    }

    @Test func attemptsPastTheEmailsLimitAreLimitedEvenWithTheRightPassword() async throws {
        try await TestDatabase.with { database in
            let (_, email) = try await Self.account(in: database, hasher: Self.hasher, password: "right-pw-1")
            let signIn = Self.signIn(database, hasher: Self.hasher, failures: 2)
            for _ in 0..<2 {
                #expect(
                    await thrown(Refusal.self) {
                        _ = try await signIn.password(
                            email: email, password: "wrong-pw", requestID: nil, clientAddress: "192.0.2.10")
                    } == Self.wrong)
            }
            let limited = await thrown(Refusal.self) {
                _ = try await signIn.password(
                    email: email, password: "right-pw-1", requestID: nil, clientAddress: "192.0.2.10")
            }
            guard case .limited(let retryAfter, let detail)? = limited else {
                Issue.record("expected a limit, got \(String(describing: limited))")
                return
            }
            #expect((1...600).contains(retryAfter) && detail == SignIn.tooMany)
        }
    }

    @Test func aSuspendedTenantStartsNoSession() async throws {
        try await TestDatabase.with { database in
            let (tenantID, email) = try await Self.account(in: database, hasher: Self.hasher, password: "right-pw-1")
            _ = try await database.asOperator(actingOn: tenantID) {
                try await TenantRepository().operatorUpdate(status: .suspended, plan: nil, in: $0)
            }
            let signIn = Self.signIn(database, hasher: Self.hasher, failures: 3)
            let error = await thrown(AuthenticationError.self) {
                _ = try await signIn.password(
                    email: email, password: "right-pw-1", requestID: nil, clientAddress: "192.0.2.11")
            }
            #expect(error == .tenantSuspended)
            // Nothing of the sign-in stayed: it is not in the audit log, which records every session started.
            let events = try await database.withTenant(tenantID) {
                try await AuditLog().list(limit: 10, after: nil, in: $0).items.map(\.entry.action)
            }
            #expect(events == [])
        }
    }
}
