import Auth
import Foundation
import Persistence
import Tenancy
import TestKit
import Testing

/// The rules of a tenant's people, checked against the real database without HTTP: ranks, the one owner,
/// keys that follow their maker's role, and the audit entry each change leaves.
@Suite(.timeLimit(.minutes(3))) struct MembershipTests {
    /// A tenant with an owner, an admin and a member, each holding one key with every scope their role has.
    struct People {
        let tenantID: TenantID
        let owner: UserRecord
        let admin: UserRecord
        let member: UserRecord
        let keys: [UUID: ApiKeyRecord]

        func principal(_ user: UserRecord) -> Principal {
            Principal(
                actor: .user(user.id), tenantID: tenantID, scopes: user.role.scopes, expiresAt: .distantFuture,
                owner: user.id)
        }

        /// The key `user` made, acting.
        func keyPrincipal(_ user: UserRecord) -> Principal {
            let key = keys[user.id]!
            return Principal(
                actor: .apiKey(key.id), tenantID: tenantID, scopes: key.scopes, expiresAt: .distantFuture,
                owner: user.id)
        }
    }

    static let caller = AuditLog.Caller(actorType: .user, actorID: "test", requestID: "r-1", clientAddress: nil)

    static func people(in database: Database) async throws -> People {
        let now = Date()
        var users: [UserRecord] = []
        var keys: [UUID: ApiKeyRecord] = [:]
        let tenantID = try await TestDatabase.tenant(in: database, prefix: "m") { _ in }
        try await database.withTenant(tenantID) { transaction in
            for role in [Role.owner, .admin, .member] {
                let user = UserRecord(
                    id: UUID(), tenantID: tenantID,
                    email: "\(role.rawValue)-\(UUID().uuidString.prefix(8))@example.com",
                    role: role, passwordHash: "not-a-hash", createdAt: now)
                try await UserRepository().insert(user, in: transaction)
                let key = ApiKeyRecord(
                    id: UUID(), tenantID: tenantID, name: role.rawValue, scopes: role.scopes,
                    createdBy: "user:\(user.id.uuidString.lowercased())", ownerID: user.id, createdAt: now,
                    expiresAt: now.addingTimeInterval(3600))
                try await ApiKeyRepository().insert(key, in: transaction)
                users.append(user)
                keys[user.id] = key
            }
        }
        return People(tenantID: tenantID, owner: users[0], admin: users[1], member: users[2], keys: keys)
    }

    static func key(_ id: UUID, of tenantID: TenantID, in database: Database) async throws -> ApiKeyRecord? {
        try await database.withTenant(tenantID) { try await ApiKeyRepository().find(id, in: $0) }
    }

    @Test func noOneGrantsARoleAboveTheirOwnOrActsOnSomeoneAbove() async throws {
        try await TestDatabase.with { database in
            let people = try await Self.people(in: database)
            let membership = Membership(database: database, credentials: CredentialStateCache())
            let byAdmin = people.principal(people.admin)
            // An admin cannot make an owner, touch the owner, or act through a member's key above admin.
            #expect(
                await thrown(Refusal.self) {
                    _ = try await membership.changeRole(
                        of: people.member.id, to: .owner, by: byAdmin, tenantID: people.tenantID,
                        recordedAs: Self.caller)
                } == .forbidden("Only the owner, signed in, hands ownership on."))
            #expect(
                await thrown(Refusal.self) {
                    _ = try await membership.changeRole(
                        of: people.owner.id, to: .member, by: byAdmin, tenantID: people.tenantID,
                        recordedAs: Self.caller)
                } == .forbidden("No one changes the role of someone above them."))
            // A member can promote no one.
            #expect(
                await thrown(Refusal.self) {
                    _ = try await membership.changeRole(
                        of: people.member.id, to: .admin, by: people.principal(people.member),
                        tenantID: people.tenantID, recordedAs: Self.caller)
                } == .forbidden("No one grants a role above their own."))
            // The owner's key acts as an admin: it cannot hand ownership on.
            #expect(
                await thrown(Refusal.self) {
                    _ = try await membership.changeRole(
                        of: people.admin.id, to: .owner, by: people.keyPrincipal(people.owner),
                        tenantID: people.tenantID, recordedAs: Self.caller)
                } == .forbidden("Only the owner, signed in, hands ownership on."))
            #expect(
                await thrown(Refusal.self) {
                    _ = try await membership.remove(
                        people.owner.id, keys: .revoke, by: people.principal(people.owner),
                        tenantID: people.tenantID, recordedAs: Self.caller)
                } == .conflict("The owner cannot be removed: make someone else owner first."))
            #expect(
                await thrown(Refusal.self) {
                    _ = try await membership.remove(
                        people.admin.id, keys: .revoke, by: byAdmin, tenantID: people.tenantID,
                        recordedAs: Self.caller)
                } == .conflict("No one removes themselves: another admin or the owner does."))
        }
    }

    @Test func aLoweredRoleTakesTheKeysThatHoldMoreAndOwnershipMovesWhole() async throws {
        try await TestDatabase.with { database in
            let people = try await Self.people(in: database)
            let membership = Membership(database: database, credentials: CredentialStateCache())
            let demoted = try await membership.changeRole(
                of: people.admin.id, to: .member, by: people.principal(people.owner), tenantID: people.tenantID,
                recordedAs: Self.caller)
            #expect(demoted.role == .member)
            // The admin's key held more than a member may: it is revoked (a revoked key is no longer found).
            #expect(try await Self.key(people.keys[people.admin.id]!.id, of: people.tenantID, in: database) == nil)
            let memberKey = try #require(
                try await Self.key(people.keys[people.member.id]!.id, of: people.tenantID, in: database))
            #expect(memberKey.revokedAt == nil)

            let heir = try await membership.changeRole(
                of: people.member.id, to: .owner, by: people.principal(people.owner), tenantID: people.tenantID,
                recordedAs: Self.caller)
            #expect(heir.role == .owner)
            let former = try await database.withTenant(people.tenantID) {
                try await UserRepository().find(people.owner.id, in: $0)
            }
            #expect(former?.role == .admin)
            let events = try await database.withTenant(people.tenantID) {
                try await AuditLog().list(limit: 10, after: nil, in: $0)
            }
            #expect(
                events.items.map(\.entry.action) == ["user.ownership_transfer", "user.role_change"])
            #expect(events.items.first?.entry.requestID == "r-1")
        }
    }

    @Test func aRemovedMembersKeysAreRevokedOrHandedOn() async throws {
        try await TestDatabase.with { database in
            let people = try await Self.people(in: database)
            let membership = Membership(database: database, credentials: CredentialStateCache())
            // A key asking to transfer names no heir of its own.
            #expect(
                await thrown(Refusal.self) {
                    _ = try await membership.remove(
                        people.member.id, keys: .transfer(to: nil), by: people.keyPrincipal(people.admin),
                        tenantID: people.tenantID, recordedAs: Self.caller)
                } == .invalid("keys=transfer needs transfer_to when the caller is an API key."))
            let removed = try await membership.remove(
                people.member.id, keys: .transfer(to: nil), by: people.principal(people.admin),
                tenantID: people.tenantID, recordedAs: Self.caller)
            #expect(removed.keyCount == 1 && removed.heir == people.admin.id)
            let handedOn = try #require(
                try await Self.key(people.keys[people.member.id]!.id, of: people.tenantID, in: database))
            #expect(handedOn.ownerID == people.admin.id && handedOn.revokedAt == nil)

            let gone = try await membership.remove(
                people.admin.id, keys: .revoke, by: people.principal(people.owner), tenantID: people.tenantID,
                recordedAs: Self.caller)
            #expect(gone.keyCount == 2 && gone.heir == nil)
            #expect(
                await thrown(Refusal.self) {
                    _ = try await membership.remove(
                        people.admin.id, keys: .revoke, by: people.principal(people.owner), tenantID: people.tenantID,
                        recordedAs: Self.caller)
                } == .notFound("user"))
        }
    }
}
