import Auth
import ControlPlaneAPI
import ControlPlaneAPITypes
import Edge
import Foundation
import Persistence
import Tenancy

/// The tenant's API keys: list, read, create, revoke, rotate. A key can only create, rotate or revoke
/// keys whose scopes it holds itself, and a key it creates cannot outlive it.
struct KeysHandler: Sendable {
    let database: Database
    let paging: Paging
    let issuer: TokenIssuer
    let credentials: CredentialStateCache
    let idempotency: IdempotentCreation
    let defaultKeyLifetime: Duration
    let maxKeyLifetime: Duration
    let keys = ApiKeyRepository()
    let audit = AuditLog()

    func listKeys(_ input: Operations.ListKeys.Input) async throws -> Operations.ListKeys.Output {
        let (_, tenantID) = try RequestScope.now.tenantCaller()
        let list = "keys:\(tenantID)"
        let page = try await paging.page(
            of: list, limit: input.query.limit, cursor: input.query.cursor, tenant: tenantID, database: database
        ) { limit, cursor, transaction in
            try await keys.list(limit: limit, after: cursor, in: transaction)
        }
        return .ok(.init(body: .json(.init(items: page.items.map { .init($0) }, nextCursor: page.nextCursor))))
    }

    func getKey(_ input: Operations.GetKey.Input) async throws -> Operations.GetKey.Output {
        let (_, tenantID) = try RequestScope.now.tenantCaller()
        guard let keyID = UUID(uuidString: input.path.keyId) else { throw APIError.notFound("key") }
        let key = try await database.withTenant(tenantID) { try await keys.find(keyID, in: $0) }
        guard let key else { throw APIError.notFound("key") }
        return .ok(.init(body: .json(.init(key))))
    }

    func createKey(_ input: Operations.CreateKey.Input) async throws -> Operations.CreateKey.Output {
        let scope = RequestScope.now
        let (principal, tenantID) = try scope.tenantCaller()
        guard case .json(let request) = input.body else { throw APIError.invalid("Send application/json.") }
        let name = try Validation.name(request.name, field: "name", maxLength: 100)
        guard !request.scopes.isEmpty else { throw APIError.invalid("scopes must name at least one scope.") }
        let scopes = Set<Scope>(request.scopes)
        let now = Date()
        let expiresAt = try expiry(requestedSeconds: request.expiresInSeconds, for: principal, now: now)
        guard scopes.isSubset(of: principal.scopes) else {
            throw APIError.forbidden("A key can only grant scopes its creator holds.")
        }
        guard let owner = principal.owner else { throw APIError.unauthenticated("This caller has no owner.") }
        let key = ApiKeyRecord(
            id: UUID(), tenantID: tenantID, name: name, scopes: scopes, createdBy: principal.creator, ownerID: owner,
            createdAt: now, expiresAt: expiresAt)
        let claim = try idempotency.claim(key: input.headers.idempotencyKey, operation: "createKey", request: request)
        let entry = try scope.auditEntry("key.create", targetType: "api_key", targetID: key.id.uuidString.lowercased())
        let signer = try await issuer.signer()

        let created = try await database.withTenant(tenantID) { transaction in
            try await idempotency.run(
                claim, namespace: .caller(principal.creator), in: transaction,
                stillExists: { (stored: Components.Schemas.CreatedApiKey) in
                    guard let id = UUID(uuidString: stored.id) else { return false }
                    return try await keys.find(id, in: transaction) != nil
                }
            ) {
                try await keys.insert(key, in: transaction)
                try await audit.record(entry, in: transaction)
                return Components.Schemas.CreatedApiKey(key, token: try signer.apiKeyToken(for: key, now: now))
            }
        }
        return .created(.init(body: .json(created)))
    }

    func revokeKey(_ input: Operations.RevokeKey.Input) async throws -> Operations.RevokeKey.Output {
        let scope = RequestScope.now
        let (principal, tenantID) = try scope.tenantCaller()
        guard let keyID = UUID(uuidString: input.path.keyId) else { throw APIError.notFound("key") }
        let entry = try scope.auditEntry("key.revoke", targetType: "api_key", targetID: keyID.uuidString.lowercased())
        try await database.withTenant(tenantID) { transaction in
            guard let target = try await keys.find(keyID, in: transaction) else { throw APIError.notFound("key") }
            guard target.scopes.isSubset(of: principal.scopes) else {
                throw APIError.forbidden("A key can only revoke keys whose scopes it holds.")
            }
            guard try await keys.revoke(keyID, at: Date(), in: transaction) != nil else {
                throw APIError.notFound("key")
            }
            try await audit.record(entry, in: transaction)
        }
        credentials.invalidate(credential: keyID)
        return .noContent(.init())
    }

    func rotateKey(_ input: Operations.RotateKey.Input) async throws -> Operations.RotateKey.Output {
        let scope = RequestScope.now
        let (principal, tenantID) = try scope.tenantCaller()
        guard let keyID = UUID(uuidString: input.path.keyId) else { throw APIError.notFound("key") }
        guard case .json(let request) = input.body else { throw APIError.invalid("Send application/json.") }
        let grace = request.graceSeconds ?? 0
        guard (0...604_800).contains(grace) else { throw APIError.invalid("grace_seconds must be 0 to 604800.") }
        let now = Date()
        let entry = try scope.auditEntry("key.rotate", targetType: "api_key", targetID: keyID.uuidString.lowercased())
        let signer = try await issuer.signer()

        let (created, previous) = try await database.withTenant(tenantID) { transaction in
            guard let old = try await keys.find(keyID, in: transaction) else { throw APIError.notFound("key") }
            guard old.isUsable(at: now) else { throw APIError.conflict("This key is revoked or expired.") }
            guard old.scopes.isSubset(of: principal.scopes) else {
                throw APIError.forbidden("A key can only rotate keys whose scopes it holds.")
            }
            let lifetime = old.expiresAt.timeIntervalSince(old.createdAt)
            var expiresAt = now.addingTimeInterval(lifetime)
            if case .apiKey = principal.actor { expiresAt = min(expiresAt, principal.expiresAt) }
            // The replacement is the same person's key, whoever rotated it.
            let replacement = ApiKeyRecord(
                id: UUID(), tenantID: tenantID, name: old.name, scopes: old.scopes, createdBy: principal.creator,
                ownerID: old.ownerID, createdAt: now, expiresAt: expiresAt)
            try await keys.insert(replacement, in: transaction)
            guard
                let previous = try await keys.supersede(
                    keyID, by: replacement.id, at: now.addingTimeInterval(TimeInterval(grace)), in: transaction)
            else { throw APIError.notFound("key") }
            try await audit.record(entry, in: transaction)
            let token = try signer.apiKeyToken(for: replacement, now: now)
            return (Components.Schemas.CreatedApiKey(replacement, token: token), previous)
        }
        credentials.invalidate(credential: keyID)
        return .created(.init(body: .json(.init(apiKey: created, previousKey: .init(previous)))))
    }

    /// The new key's expiry: at most the platform maximum, and for a key created by a key, no later
    /// than the creating key's own expiry.
    private func expiry(requestedSeconds: Int?, for principal: Principal, now: Date) throws -> Date {
        let maximum = maxKeyLifetime.components.seconds
        let createdByKey: Bool = {
            if case .apiKey = principal.actor { return true }
            return false
        }()
        guard let requestedSeconds else {
            let standard = now.addingTimeInterval(TimeInterval(defaultKeyLifetime.components.seconds))
            return createdByKey ? min(standard, principal.expiresAt) : standard
        }
        guard requestedSeconds >= 60, Int64(requestedSeconds) <= maximum else {
            throw APIError.invalid("expires_in_seconds must be between 60 and \(maximum).")
        }
        let requested = now.addingTimeInterval(TimeInterval(requestedSeconds))
        if createdByKey, requested > principal.expiresAt {
            throw APIError.forbidden("A key cannot create a key that outlives it.")
        }
        return requested
    }
}

extension Principal {
    /// The caller as `created_by` and idempotency records name it: `api_key:<id>`, `user:<id>`.
    var creator: String {
        let actor = auditActor
        return "\(actor.type.rawValue):\(actor.id)"
    }
}
