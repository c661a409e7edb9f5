import Auth
import Foundation
import Persistence
import Tenancy
import TestKit
import Testing

/// Making and revoking invitations without HTTP: no role above the inviter's, no email that has an
/// account, one open invitation per email even when two are made at the same moment, the invitation
/// announced and audited in its transaction, and only a pending one revoked.
@Suite(.timeLimit(.minutes(2))) struct InvitationIssuanceTests {
    /// `announced` collects the emails of the invitations announced.
    static func issuance(_ database: Database, _ announced: Shared<[String]>) -> InvitationIssuance {
        InvitationIssuance(
            database: database, membership: Membership(database: database, credentials: CredentialStateCache()),
            lifetime: .seconds(3600),
            announce: { invitation, token, _ in
                #expect(token.invitationID == invitation.id)
                announced.withLock { $0.append(invitation.email) }
            })
    }

    @Test func invitationsFollowTheInvitersRankAndAreAnnouncedAndAudited() async throws {
        try await TestDatabase.with { database in
            let people = try await MembershipTests.people(in: database)
            let announced = Shared<[String]>([])
            let issuance = Self.issuance(database, announced)
            func invite(_ email: String, _ role: Role, by user: UserRecord) async throws -> InvitationRecord {
                try await issuance.transaction(of: people.tenantID) {
                    try await issuance.invite(
                        email: email, role: role, by: people.principal(user), now: Date(),
                        recordedAs: MembershipTests.caller, in: $0)
                }.invitation
            }
            #expect(
                await thrown(Refusal.self) { _ = try await invite("new@example.com", .admin, by: people.member) }
                    == .forbidden("No one invites a role above their own."))
            #expect(
                await thrown(Refusal.self) { _ = try await invite(people.member.email, .member, by: people.admin) }
                    == .conflict("This email already belongs to an account."))
            let invitation = try await invite(" new@example.com ", .admin, by: people.admin)
            #expect(invitation.email == "new@example.com" && invitation.role == .admin)
            #expect(announced.withLock { $0 } == ["new@example.com"])
            try await issuance.revoke(invitation.id, tenantID: people.tenantID, recordedAs: MembershipTests.caller)
            #expect(
                await thrown(Refusal.self) {
                    try await issuance.revoke(
                        invitation.id, tenantID: people.tenantID, recordedAs: MembershipTests.caller)
                } == .conflict("This invitation is revoked."))
            #expect(
                await thrown(Refusal.self) {
                    try await issuance.revoke(UUID(), tenantID: people.tenantID, recordedAs: MembershipTests.caller)
                } == .notFound("invitation"))
            let entries = try await database.withTenant(people.tenantID) {
                try await AuditLog().list(limit: 10, after: nil, in: $0).items.map(\.entry)
            }
            #expect(entries.map(\.action) == ["user.invitation_revoke", "user.invite"])
            #expect(
                entries.allSatisfy { $0.targetID == invitation.id.text && $0.details["email"] == "new@example.com" })
        }
    }

    @Test func twoInvitationsOfOneEmailAtOnceMakeOne() async throws {
        try await TestDatabase.with { database in
            let people = try await MembershipTests.people(in: database)
            let issuance = Self.issuance(database, Shared([]))
            let principal = people.principal(people.owner)
            // The first holds its transaction open; the second's insert waits for it, then meets its row.
            async let first: Void = issuance.transaction(of: people.tenantID) { transaction in
                _ = try await issuance.invite(
                    email: "race@example.com", role: .member, by: principal, now: Date(),
                    recordedAs: MembershipTests.caller, in: transaction)
                try await Task.sleep(for: .milliseconds(400))
            }
            try await Task.sleep(for: .milliseconds(100))
            let second = await thrown(Refusal.self) {
                _ = try await issuance.transaction(of: people.tenantID) { transaction in
                    try await issuance.invite(
                        email: "race@example.com", role: .member, by: principal, now: Date(),
                        recordedAs: MembershipTests.caller, in: transaction)
                }
            }
            try await first
            #expect(second == .conflict("Another invitation to this email was made at the same moment."))
        }
    }
}
