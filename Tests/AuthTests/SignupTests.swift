import Auth
import Foundation
import Persistence
import Tenancy
import TestKit
import Testing

/// A signup without HTTP: the organisation it makes, what other modules provision with it, its audit
/// entry, and the refusals for a taken slug or email.
@Suite(.timeLimit(.minutes(2))) struct SignupModuleTests {
    static let hasher = PasswordHasher(parameters: .init(memoryKiB: 64, iterations: 1))

    static func signup(provisioned: Shared<[TenantID]>) -> Signup {
        Signup(hasher: hasher, keyLifetime: .seconds(3600)) { transaction in
            provisioned.withLock { $0.append(transaction.tenantID) }
        }
    }

    static func unique(_ prefix: String) -> String { "\(prefix)-\(UUID().uuidString.prefix(8).lowercased())" }

    @Test func anOrganisationIsMadeWholeWithItsOwnerKeyProvisionAndAuditEntry() async throws {
        try await TestDatabase.with { database in
            let provisioned = Shared<[TenantID]>([])
            let signup = Self.signup(provisioned: provisioned)
            let made = try await signup.prepare(
                name: "Acme", slug: Self.unique("acme"), email: " \(Self.unique("ada"))@example.com ",
                password: "correct horse battery", timezone: "Europe/Paris")
            #expect(
                made.owner.role == .owner && made.key.scopes == Set(Scope.allCases) && made.key.ownerID == made.owner.id
            )
            #expect(!made.owner.email.hasPrefix(" ") && made.owner.passwordHash.hasPrefix("$argon2id$"))
            #expect(abs(made.key.expiresAt.timeIntervalSince(made.key.createdAt) - 3600) < 1)
            try await database.withTenant(made.tenant.id) { transaction in
                try await signup.create(made, requestID: "r-signup", clientAddress: "192.0.2.1", in: transaction)
            }
            #expect(provisioned.withLock { $0 } == [made.tenant.id])
            let (tenant, owner, events) = try await database.withTenant(made.tenant.id) { transaction in
                (
                    try await TenantRepository().find(in: transaction),
                    try await UserRepository().find(made.owner.id, in: transaction),
                    try await AuditLog().list(limit: 5, after: nil, in: transaction)
                )
            }
            #expect(tenant?.timezone == "Europe/Paris" && owner?.role == .owner)
            #expect(events.items.map(\.entry.action) == ["tenant.signup"])
            #expect(events.items.first?.entry.actorID == made.owner.id.uuidString.lowercased())
        }
    }

    @Test func aTakenSlugOrEmailIsRefusedAndNothingIsKept() async throws {
        try await TestDatabase.with { database in
            let provisioned = Shared<[TenantID]>([])
            let signup = Self.signup(provisioned: provisioned)
            let slug = Self.unique("taken")
            let email = "\(Self.unique("grace"))@example.com"
            let first = try await signup.prepare(
                name: "First", slug: slug, email: email, password: "pw-123456", timezone: "UTC")
            try await database.withTenant(first.tenant.id) {
                try await signup.create(first, requestID: nil, clientAddress: nil, in: $0)
            }
            for (slug, email, refusal) in [
                (slug, "\(Self.unique("other"))@example.com", SignupRefusal.slugTaken),
                (Self.unique("free"), email, SignupRefusal.emailRegistered),
            ] {
                let again = try await signup.prepare(
                    name: "Again", slug: slug, email: email, password: "pw-123456", timezone: "UTC")
                await #expect(throws: refusal) {
                    try await database.withTenant(again.tenant.id) {
                        try await signup.create(again, requestID: nil, clientAddress: nil, in: $0)
                    }
                }
                let kept = try await database.withTenant(again.tenant.id) { try await TenantRepository().find(in: $0) }
                #expect(kept == nil)
            }
            #expect(provisioned.withLock { $0 } == [first.tenant.id])
        }
    }
}
