import Auth
import Foundation
import Persistence
import Tenancy
import TestKit
import Testing

/// The rules of API keys without HTTP: scopes bounded by the maker's, lifetimes bounded by the platform
/// and by the making key, revocation and rotation only of keys whose scopes the caller holds.
@Suite(.timeLimit(.minutes(2))) struct KeyIssuanceTests {
    static let caller = AuditLog.Caller(actorType: .user, actorID: "test", requestID: "r-keys", clientAddress: nil)

    static func issuance(_ database: Database) -> KeyIssuance {
        KeyIssuance(
            database: database, credentials: CredentialStateCache(), defaultLifetime: .seconds(86_400),
            maxLifetime: .seconds(7 * 86_400))
    }

    /// A tenant with a member, who acts with their role's scopes.
    static func member(in database: Database) async throws -> (TenantID, Principal) {
        let userID = UUID()
        let tenantID = try await TestDatabase.tenant(in: database, prefix: "k") { transaction in
            try await UserRepository().insert(
                UserRecord(
                    id: userID, tenantID: transaction.tenantID, email: "m-\(UUID().uuidString.prefix(8))@example.com",
                    role: .owner, passwordHash: "not-a-hash", createdAt: Date()), in: transaction)
        }
        return (
            tenantID,
            Principal(
                actor: .user(userID), tenantID: tenantID, scopes: Role.member.scopes, expiresAt: .distantFuture,
                owner: userID)
        )
    }

    @Test func aKeyGrantsOnlyItsMakersScopesAndOutlivesNeitherThePlatformsCapNorItsMakingKey() async throws {
        try await TestDatabase.with { database in
            let issuance = Self.issuance(database)
            let (tenantID, member) = try await Self.member(in: database)
            let now = Date()
            #expect(
                await thrown(Refusal.self) {
                    _ = try issuance.newKey(
                        name: "admin", scopes: [.tenantAdmin], expiresInSeconds: nil, by: member, tenantID: tenantID)
                } == .forbidden("A key can only grant scopes its creator holds."))
            #expect(
                await thrown(Refusal.self) {
                    _ = try issuance.newKey(
                        name: "long", scopes: [.llmInvoke], expiresInSeconds: 8 * 86_400, by: member,
                        tenantID: tenantID)
                } == .invalid("expires_in_seconds must be between 60 and 604800."))
            let key = try issuance.newKey(
                name: "ok", scopes: [.llmInvoke], expiresInSeconds: nil, by: member, tenantID: tenantID, now: now)
            // Records keep whole seconds, as tokens do.
            #expect(abs(key.expiresAt.timeIntervalSince(now) - 86_400) < 1 && key.ownerID == member.owner)
            let byKey = Principal(
                actor: .apiKey(key.id), tenantID: tenantID, scopes: key.scopes, expiresAt: now.addingTimeInterval(600),
                owner: member.owner)
            #expect(
                await thrown(Refusal.self) {
                    _ = try issuance.newKey(
                        name: "outlives", scopes: [.llmInvoke], expiresInSeconds: 3600, by: byKey, tenantID: tenantID)
                } == .forbidden("A key cannot create a key that outlives it."))
            let child = try issuance.newKey(
                name: "child", scopes: [.llmInvoke], expiresInSeconds: nil, by: byKey, tenantID: tenantID, now: now)
            #expect(abs(child.expiresAt.timeIntervalSince(byKey.expiresAt)) < 1)
        }
    }

    @Test func revokingAndRotatingNeedTheKeysScopesAndRotationKeepsTheKey() async throws {
        try await TestDatabase.with { database in
            let issuance = Self.issuance(database)
            let (tenantID, member) = try await Self.member(in: database)
            let key = try issuance.newKey(
                name: "ci", scopes: [.llmInvoke], expiresInSeconds: 3600, by: member, tenantID: tenantID)
            try await database.withTenant(tenantID) {
                try await issuance.store(key, recordedAs: Self.caller, in: $0)
            }
            let weaker = Principal(
                actor: member.actor, tenantID: tenantID, scopes: [.tenantRead], expiresAt: .distantFuture,
                owner: member.owner)
            #expect(
                await thrown(Refusal.self) {
                    try await issuance.revoke(key.id, by: weaker, tenantID: tenantID, recordedAs: Self.caller)
                } == .forbidden("A key can only revoke keys whose scopes it holds."))
            #expect(
                await thrown(Refusal.self) {
                    _ = try await issuance.rotate(
                        key.id, graceSeconds: 604_801, by: member, tenantID: tenantID, recordedAs: Self.caller
                    ) { _ in "" }
                } == .invalid("grace_seconds must be 0 to 604800."))
            let rotated = try await issuance.rotate(
                key.id, graceSeconds: 0, by: member, tenantID: tenantID, recordedAs: Self.caller
            ) { "token-\($0.id)" }
            #expect(rotated.replacement.scopes == key.scopes && rotated.replacement.ownerID == key.ownerID)
            #expect(rotated.token == "token-\(rotated.replacement.id)" && rotated.previous.id == key.id)
            #expect(
                await thrown(Refusal.self) {
                    _ = try await issuance.rotate(
                        key.id, graceSeconds: 0, by: member, tenantID: tenantID, recordedAs: Self.caller
                    ) { _ in "" }
                } == .conflict("This key is revoked or expired."))
            try await issuance.revoke(rotated.replacement.id, by: member, tenantID: tenantID, recordedAs: Self.caller)
            #expect(
                await thrown(Refusal.self) {
                    try await issuance.revoke(
                        rotated.replacement.id, by: member, tenantID: tenantID, recordedAs: Self.caller)
                } == .notFound("key"))
            let actions = try await database.withTenant(tenantID) {
                try await AuditLog().list(limit: 10, after: nil, in: $0).items.map(\.entry.action)
            }
            #expect(actions == ["key.revoke", "key.rotate", "key.create"])
        }
    }
}
