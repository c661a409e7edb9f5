import Foundation
import Persistence
import Tenancy

/// A new organisation: its tenant, its owner (with every scope) and a first API key named `default`,
/// made in one transaction together with what the other modules give every new tenant (`provision`:
/// its rate limit and budget), and audited as the owner's `tenant.signup`.
public struct Signup: Sendable {
    /// What a signup makes, before it is stored.
    public struct Organisation: Sendable {
        public let tenant: Tenant
        public let owner: UserRecord
        public let key: ApiKeyRecord
    }

    let hasher: PasswordHasher
    let keyLifetime: Duration
    let provision: @Sendable (TenantTransaction) async throws -> Void
    let tenants = TenantRepository()
    let users = UserRepository()
    let keys = ApiKeyRepository()
    let audit = AuditLog()

    public init(
        hasher: PasswordHasher, keyLifetime: Duration,
        provision: @escaping @Sendable (TenantTransaction) async throws -> Void
    ) {
        self.hasher = hasher
        self.keyLifetime = keyLifetime
        self.provision = provision
    }

    /// The organisation a signup makes, its password hashed (on the hashing pool's own threads).
    public func prepare(
        name: String, slug: String, email: String, password: String, timezone: String, now: Date = Date()
    ) async throws -> Organisation {
        let passwordHash = try await hasher.hash(password)
        let tenantID = TenantID.generate()
        let tenant = Tenant(
            id: tenantID, slug: slug, name: name, status: .active, plan: .free, timezone: timezone, createdAt: now)
        let owner = UserRecord(
            id: UUID(), tenantID: tenantID, email: email.trimmingCharacters(in: .whitespaces), role: .owner,
            passwordHash: passwordHash, createdAt: now)
        let key = ApiKeyRecord(
            id: UUID(), tenantID: tenantID, name: "default", scopes: Set(Scope.allCases),
            createdBy: AuditLog.ActorType.user.name(owner.id.text), ownerID: owner.id, createdAt: now,
            expiresAt: now.addingTimeInterval(keyLifetime.seconds))
        return Organisation(tenant: tenant, owner: owner, key: key)
    }

    /// Stores `organisation` in its own tenant's transaction; a taken slug or email is a `SignupRefusal`.
    public func create(
        _ organisation: Organisation, requestID: String?, clientAddress: String?, in transaction: TenantTransaction
    ) async throws {
        do {
            try await tenants.insert(organisation.tenant, in: transaction)
            try await users.insert(organisation.owner, in: transaction)
            try await keys.insert(organisation.key, in: transaction)
        } catch {
            switch UniqueViolation(error)?.constraint {
            case nil: throw error
            case "tenants_slug_key": throw SignupRefusal.slugTaken
            case "login_directory_pkey": throw SignupRefusal.emailRegistered
            default: throw SignupRefusal.exists
            }
        }
        try await provision(transaction)
        try await audit.record(
            AuditLog.Caller.user(organisation.owner.id, requestID: requestID, clientAddress: clientAddress).entry(
                "tenant.signup", targetType: "tenant", targetID: organisation.tenant.id.description),
            in: transaction)
    }
}

/// Why a signup was refused; the HTTP shell answers each with 409.
public enum SignupRefusal: Error, Sendable, Equatable {
    case slugTaken
    case emailRegistered
    /// The organisation was made at the same moment by another request.
    case exists
}
