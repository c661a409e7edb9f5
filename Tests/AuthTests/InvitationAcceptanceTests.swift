import Auth
import Crypto
import Foundation
import Persistence
import Tenancy
import TestKit
import Testing

/// Accepting an invitation without HTTP: the account it makes with the invited role and a first session,
/// the join audited, a token that works once, and one refusal for every token that opens nothing.
@Suite(.timeLimit(.minutes(2))) struct InvitationAcceptanceTests {
    static let refused = Refusal.unauthenticated("The invitation is unknown, used, revoked or expired.")

    @Test func anInvitationMakesItsAccountOnceWithTheInvitedRole() async throws {
        try await TestDatabase.with { database in
            let acceptance = InvitationAcceptance(
                database: database, hasher: PasswordHasher(parameters: .init(memoryKiB: 64, iterations: 1)),
                sessions: SessionRepository(box: SecretBox(key: SymmetricKey(size: .bits256))),
                sessionPolicy: SessionPolicy(idle: .seconds(3600), absolute: .seconds(86_400)), clock: .system)
            // A tenant always has its one owner before anyone joins it.
            let tenantID = try await TestDatabase.tenant(in: database, prefix: "inv") { transaction in
                try await UserRepository().insert(
                    UserRecord(
                        id: UUID(), tenantID: transaction.tenantID,
                        email: "owner-\(UUID().uuidString.prefix(8).lowercased())@example.com", role: .owner,
                        passwordHash: "not-a-hash", createdAt: Date()), in: transaction)
            }
            let token = InvitationToken.generate(tenantID: tenantID, invitationID: UUID())
            let email = "joiner-\(UUID().uuidString.prefix(8).lowercased())@example.com"
            try await database.withTenant(tenantID) { transaction in
                _ = try await InvitationRepository().create(
                    email: email, role: .admin, invitedBy: "user:someone", token: token, createdAt: Date(),
                    expiresAt: Date().addingTimeInterval(3600), in: transaction)
            }
            #expect(
                await thrown(Refusal.self) {
                    _ = try await acceptance.accept(
                        token: "cpinv_not-a-token", password: "pw-123456", requestID: nil, clientAddress: nil)
                } == Self.refused)
            let joined = try await acceptance.accept(
                token: token.text, password: "pw-123456", requestID: "r-join", clientAddress: "192.0.2.7")
            #expect(joined.user.email == email && joined.user.role == .admin && joined.user.tenantID == tenantID)
            #expect(joined.session.userID == joined.user.id && joined.session.method == .invitation)
            #expect(
                await thrown(Refusal.self) {
                    _ = try await acceptance.accept(
                        token: token.text, password: "pw-123456", requestID: nil, clientAddress: nil)
                } == Self.refused)
            let events = try await database.withTenant(tenantID) {
                try await AuditLog().list(limit: 5, after: nil, in: $0).items.map(\.entry)
            }
            #expect(events.map(\.action) == ["user.join"])
            #expect(events.first?.details["role"] == "admin" && events.first?.clientAddress == "192.0.2.7")
        }
    }
}
