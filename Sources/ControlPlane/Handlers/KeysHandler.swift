import Auth
import ControlPlaneAPI
import ControlPlaneAPITypes
import Edge
import Foundation
import Persistence
import Tenancy

/// The tenant's API keys over HTTP: list, read, create, revoke, rotate. The rules are `KeyIssuance`'s.
struct KeysHandler: Sendable {
    let database: Database
    let paging: Paging
    let issuer: TokenIssuer
    let idempotency: IdempotentCreation
    let issuance: KeyIssuance
    let keys = ApiKeyRepository()

    func listKeys(_ input: Operations.ListKeys.Input) async throws -> Operations.ListKeys.Output {
        let (_, tenantID) = try RequestScope.now.tenantCaller()
        let list = "keys:\(tenantID)"
        let page = try await paging.page(
            of: list, limit: input.query.limit, cursor: input.query.cursor, tenant: tenantID
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
        let now = Date()
        let key = try issuance.newKey(
            name: name, scopes: Set<Scope>(request.scopes), expiresInSeconds: request.expiresInSeconds,
            by: principal, tenantID: tenantID, now: now)
        let claim = try idempotency.claim(key: input.headers.idempotencyKey, operation: "createKey", request: request)
        let caller = try scope.auditCaller()
        let signer = try await issuer.signer()
        let created = try await database.withTenant(tenantID) { transaction in
            try await idempotency.run(
                claim, namespace: .caller(principal.creator), in: transaction,
                stillExists: { (stored: Components.Schemas.CreatedApiKey) in
                    guard let id = UUID(uuidString: stored.id) else { return false }
                    return try await keys.find(id, in: transaction) != nil
                }
            ) {
                try await issuance.store(key, recordedAs: caller, in: transaction)
                return Components.Schemas.CreatedApiKey(key, token: try signer.apiKeyToken(for: key, now: now))
            }
        }
        return .created(.init(body: .json(created)))
    }

    func revokeKey(_ input: Operations.RevokeKey.Input) async throws -> Operations.RevokeKey.Output {
        let scope = RequestScope.now
        let (principal, tenantID) = try scope.tenantCaller()
        guard let keyID = UUID(uuidString: input.path.keyId) else { throw APIError.notFound("key") }
        try await issuance.revoke(keyID, by: principal, tenantID: tenantID, recordedAs: try scope.auditCaller())
        return .noContent(.init())
    }

    func rotateKey(_ input: Operations.RotateKey.Input) async throws -> Operations.RotateKey.Output {
        let scope = RequestScope.now
        let (principal, tenantID) = try scope.tenantCaller()
        guard let keyID = UUID(uuidString: input.path.keyId) else { throw APIError.notFound("key") }
        guard case .json(let request) = input.body else { throw APIError.invalid("Send application/json.") }
        let now = Date()
        let signer = try await issuer.signer()
        let rotated = try await issuance.rotate(
            keyID, graceSeconds: request.graceSeconds ?? 0, by: principal, tenantID: tenantID,
            recordedAs: try scope.auditCaller(), now: now
        ) { try signer.apiKeyToken(for: $0, now: now) }
        return .created(
            .init(
                body: .json(
                    .init(
                        apiKey: .init(rotated.replacement, token: rotated.token), previousKey: .init(rotated.previous))
                )))
    }
}
