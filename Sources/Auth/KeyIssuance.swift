import Foundation
import Persistence
import Tenancy

/// The rules of API keys: a key grants only scopes its maker holds, and lives at most the platform's
/// longest lifetime and, when a key makes it, no longer than that key; a caller revokes or rotates only
/// keys whose scopes it holds; a rotated key keeps its scopes, lifetime and owner (the same person's key,
/// whoever rotated it). Every change is audited in its transaction, and a revoked or rotated key stops on
/// this replica before the caller hears back (other replicas hear of it on the invalidation channel).
public struct KeyIssuance: Sendable {
    let database: Database
    let credentials: CredentialStateCache
    let defaultLifetime: Duration
    let maxLifetime: Duration
    let keys = ApiKeyRepository()
    let audit = AuditLog()

    public init(database: Database, credentials: CredentialStateCache, defaultLifetime: Duration, maxLifetime: Duration)
    {
        self.database = database
        self.credentials = credentials
        self.defaultLifetime = defaultLifetime
        self.maxLifetime = maxLifetime
    }

    /// A new key `principal` may make (not stored yet): `expiresInSeconds` or the default lifetime.
    public func newKey(
        name: String, scopes: Set<Scope>, expiresInSeconds: Int?, by principal: Principal, tenantID: TenantID,
        now: Date = Date()
    ) throws -> ApiKeyRecord {
        guard !scopes.isEmpty else { throw Refusal.invalid("scopes must name at least one scope.") }
        let expiresAt = try expiry(requestedSeconds: expiresInSeconds, for: principal, now: now)
        guard scopes.isSubset(of: principal.scopes) else {
            throw Refusal.forbidden("A key can only grant scopes its creator holds.")
        }
        guard let owner = principal.owner else { throw Refusal.unauthenticated("This caller has no owner.") }
        return ApiKeyRecord(
            id: UUID(), tenantID: tenantID, name: name, scopes: scopes, createdBy: principal.creator, ownerID: owner,
            createdAt: now, expiresAt: expiresAt)
    }

    /// Stores `key` and its audit entry in `transaction`.
    public func store(_ key: ApiKeyRecord, recordedAs caller: AuditLog.Caller, in transaction: TenantTransaction)
        async throws
    {
        try await keys.insert(key, in: transaction)
        try await audit.record(
            caller.entry("key.create", targetType: "api_key", targetID: key.id.text),
            in: transaction)
    }

    /// Revokes `keyID`.
    public func revoke(_ keyID: UUID, by principal: Principal, tenantID: TenantID, recordedAs caller: AuditLog.Caller)
        async throws
    {
        try await database.withTenant(tenantID) { transaction in
            guard let target = try await keys.find(keyID, in: transaction) else { throw Refusal.notFound("key") }
            guard target.scopes.isSubset(of: principal.scopes) else {
                throw Refusal.forbidden("A key can only revoke keys whose scopes it holds.")
            }
            guard try await keys.revoke(keyID, at: Date(), in: transaction) != nil else {
                throw Refusal.notFound("key")
            }
            try await audit.record(
                caller.entry("key.revoke", targetType: "api_key", targetID: keyID.text),
                in: transaction)
        }
        credentials.invalidate(credential: keyID)
    }

    /// Replaces `keyID` with a new key; the old one keeps working for `graceSeconds`. `sign` makes the new
    /// key's token inside the transaction, so a key is never stored without the token its caller gets.
    public func rotate<Token: Sendable>(
        _ keyID: UUID, graceSeconds: Int, by principal: Principal, tenantID: TenantID,
        recordedAs caller: AuditLog.Caller, now: Date = Date(), sign: (ApiKeyRecord) throws -> Token
    ) async throws -> (replacement: ApiKeyRecord, token: Token, previous: ApiKeyRecord) {
        guard (0...604_800).contains(graceSeconds) else {
            throw Refusal.invalid("grace_seconds must be 0 to 604800.")
        }
        let rotated = try await database.withTenant(tenantID) { transaction in
            guard let old = try await keys.find(keyID, in: transaction) else { throw Refusal.notFound("key") }
            guard old.isUsable(at: now) else { throw Refusal.conflict("This key is revoked or expired.") }
            guard old.scopes.isSubset(of: principal.scopes) else {
                throw Refusal.forbidden("A key can only rotate keys whose scopes it holds.")
            }
            var expiresAt = now.addingTimeInterval(old.expiresAt.timeIntervalSince(old.createdAt))
            if case .apiKey = principal.actor { expiresAt = min(expiresAt, principal.expiresAt) }
            let replacement = ApiKeyRecord(
                id: UUID(), tenantID: tenantID, name: old.name, scopes: old.scopes, createdBy: principal.creator,
                ownerID: old.ownerID, createdAt: now, expiresAt: expiresAt)
            try await keys.insert(replacement, in: transaction)
            guard
                let previous = try await keys.supersede(
                    keyID, by: replacement.id, at: now.addingTimeInterval(TimeInterval(graceSeconds)), in: transaction)
            else { throw Refusal.notFound("key") }
            try await audit.record(
                caller.entry("key.rotate", targetType: "api_key", targetID: keyID.text),
                in: transaction)
            return (replacement: replacement, token: try sign(replacement), previous: previous)
        }
        credentials.invalidate(credential: keyID)
        return rotated
    }

    /// The new key's expiry: at most the platform maximum, and for a key created by a key, no later than
    /// the creating key's own expiry.
    private func expiry(requestedSeconds: Int?, for principal: Principal, now: Date) throws -> Date {
        let maximum = maxLifetime.components.seconds
        let createdByKey: Bool = {
            if case .apiKey = principal.actor { return true }
            return false
        }()
        guard let requestedSeconds else {
            let standard = now.addingTimeInterval(TimeInterval(defaultLifetime.components.seconds))
            return createdByKey ? min(standard, principal.expiresAt) : standard
        }
        guard requestedSeconds >= 60, Int64(requestedSeconds) <= maximum else {
            throw Refusal.invalid("expires_in_seconds must be between 60 and \(maximum).")
        }
        let requested = now.addingTimeInterval(TimeInterval(requestedSeconds))
        if createdByKey, requested > principal.expiresAt {
            throw Refusal.forbidden("A key cannot create a key that outlives it.")
        }
        return requested
    }
}

extension Principal {
    /// The caller as `created_by` and idempotency records name it: `api_key:<id>`, `user:<id>`.
    public var creator: String {
        let actor = auditActor
        return actor.type.name(actor.id)
    }
}
