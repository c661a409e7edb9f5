import Auth
import ControlPlaneAPI
import Foundation
import Tenancy

extension APIHandler {
    func listKeys(_ input: Operations.ListKeys.Input) async throws -> Operations.ListKeys.Output {
        let (_, tenantID) = try tenantCaller()
        let (limit, cursor) = try page(limit: input.query.limit, cursor: input.query.cursor)
        let page = try await database.transaction(.tenant(tenantID)) {
            try await keys.list(tenantID: tenantID, limit: limit, after: cursor, on: $0)
        }
        return .ok(.init(body: .json(.init(items: page.items.map { .init($0) }, nextCursor: page.nextCursor?.encoded))))
    }

    func getKey(_ input: Operations.GetKey.Input) async throws -> Operations.GetKey.Output {
        let (_, tenantID) = try tenantCaller()
        guard let keyID = UUID(uuidString: input.path.keyId) else { throw APIError.notFound("key") }
        let key = try await database.transaction(.tenant(tenantID)) { try await keys.find(keyID, tenantID: tenantID, on: $0) }
        guard let key else { throw APIError.notFound("key") }
        return .ok(.init(body: .json(.init(key))))
    }

    func createKey(_ input: Operations.CreateKey.Input) async throws -> Operations.CreateKey.Output {
        let (principal, tenantID) = try tenantCaller()
        guard case .json(let request) = input.body else { throw APIError.invalid("Send application/json.") }
        let name = try Validation.name(request.name, field: "name", maxLength: 100)
        guard !request.scopes.isEmpty else { throw APIError.invalid("scopes must name at least one scope.") }
        let scopes = Set<Scope>(request.scopes)
        let now = Date()
        let expiresAt = try expiry(requestedSeconds: request.expiresInSeconds, for: principal, now: now)
        guard scopes.isSubset(of: principal.scopes) else {
            throw APIError.forbidden("A key can only grant scopes its creator holds.")
        }
        let key = ApiKeyRecord(
            id: UUID(), tenantID: tenantID, name: name, scopes: scopes, createdBy: creator(principal), createdAt: now,
            expiresAt: expiresAt)
        let idempotencyKey = input.headers.idempotencyKey
        let requestHash = try idempotencyKey.map { _ in
            IdempotencyStore.requestHash(operation: "createKey", canonicalBody: try Canonical.encode(request))
        }
        let entry = auditEntry("key.create", targetType: "api_key", targetID: key.id.uuidString.lowercased())

        let created = try await database.transaction(.tenant(tenantID)) { connection -> Components.Schemas.CreatedApiKey in
            if let idempotencyKey, let requestHash {
                switch try await idempotency.claim(
                    key: idempotencyKey, operation: "createKey", requestHash: requestHash, in: .tenant(tenantID),
                    on: connection)
                {
                case .fresh: break
                case .mismatch: throw APIError.idempotencyMismatch()
                case .replay(_, let body): return try JSONDecoder().decode(Components.Schemas.CreatedApiKey.self, from: body)
                }
            }
            try await keys.insert(key, on: connection)
            try await audit.record(entry, tenantID: tenantID, on: connection)
            let created = Components.Schemas.CreatedApiKey(key, token: try await issuer.apiKeyToken(for: key, now: now))
            if let idempotencyKey {
                try await idempotency.complete(
                    key: idempotencyKey, operation: "createKey", status: 201, body: try JSONEncoder().encode(created),
                    in: .tenant(tenantID), on: connection)
            }
            return created
        }
        return .created(.init(body: .json(created)))
    }

    func revokeKey(_ input: Operations.RevokeKey.Input) async throws -> Operations.RevokeKey.Output {
        let (_, tenantID) = try tenantCaller()
        guard let keyID = UUID(uuidString: input.path.keyId) else { throw APIError.notFound("key") }
        let entry = auditEntry("key.revoke", targetType: "api_key", targetID: keyID.uuidString.lowercased())
        let revoked = try await database.transaction(.tenant(tenantID)) { connection -> ApiKeyRecord? in
            guard let key = try await keys.revoke(keyID, tenantID: tenantID, at: Date(), on: connection) else { return nil }
            try await audit.record(entry, tenantID: tenantID, on: connection)
            return key
        }
        guard revoked != nil else { throw APIError.notFound("key") }
        authenticator.credentials.invalidate(credential: keyID)
        return .noContent(.init())
    }

    func rotateKey(_ input: Operations.RotateKey.Input) async throws -> Operations.RotateKey.Output {
        let (principal, tenantID) = try tenantCaller()
        guard let keyID = UUID(uuidString: input.path.keyId) else { throw APIError.notFound("key") }
        guard case .json(let request) = input.body else { throw APIError.invalid("Send application/json.") }
        let grace = request.graceSeconds ?? 0
        guard (0...604_800).contains(grace) else { throw APIError.invalid("grace_seconds must be 0 to 604800.") }
        let now = Date()

        let (created, previous) = try await database.transaction(.tenant(tenantID)) { connection in
            guard let old = try await keys.find(keyID, tenantID: tenantID, on: connection) else {
                throw APIError.notFound("key")
            }
            guard old.isUsable(at: now) else { throw APIError.conflict("This key is revoked or expired.") }
            guard old.scopes.isSubset(of: principal.scopes) else {
                throw APIError.forbidden("A key can only rotate keys whose scopes it holds.")
            }
            let lifetime = old.expiresAt.timeIntervalSince(old.createdAt)
            var expiresAt = now.addingTimeInterval(lifetime)
            if case .apiKey = principal.actor { expiresAt = min(expiresAt, principal.expiresAt) }
            let replacement = ApiKeyRecord(
                id: UUID(), tenantID: tenantID, name: old.name, scopes: old.scopes, createdBy: creator(principal),
                createdAt: now, expiresAt: expiresAt)
            try await keys.insert(replacement, on: connection)
            guard let previous = try await keys.revoke(
                keyID, tenantID: tenantID, at: now.addingTimeInterval(TimeInterval(grace)), on: connection)
            else { throw APIError.notFound("key") }
            try await audit.record(
                auditEntry("key.rotate", targetType: "api_key", targetID: keyID.uuidString.lowercased()),
                tenantID: tenantID, on: connection)
            let token = try await issuer.apiKeyToken(for: replacement, now: now)
            return (Components.Schemas.CreatedApiKey(replacement, token: token), previous)
        }
        authenticator.credentials.invalidate(credential: keyID)
        return .created(.init(body: .json(.init(apiKey: created, previousKey: .init(previous)))))
    }

    /// The new key's expiry: at most the platform maximum, and for a key created by a key, no later
    /// than the creating key's own expiry.
    private func expiry(requestedSeconds: Int?, for principal: Principal, now: Date) throws -> Date {
        let maximum = configuration.maxKeyLifetime.components.seconds
        let createdByKey: Bool = { if case .apiKey = principal.actor { return true } else { return false } }()
        guard let requestedSeconds else {
            let standard = now.addingTimeInterval(TimeInterval(configuration.defaultKeyLifetime.components.seconds))
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

    private func creator(_ principal: Principal) -> String {
        let actor = principal.auditActor
        return "\(actor.type.rawValue):\(actor.id)"
    }
}
