import Auth
import ControlPlaneAPI
import Foundation
import Tenancy

extension APIHandler {
    func signup(_ input: Operations.Signup.Input) async throws -> Operations.Signup.Output {
        guard case .json(let request) = input.body else { throw APIError.invalid("Send application/json.") }
        let name = try Validation.name(request.organizationName, field: "organization_name", maxLength: 200)
        try Validation.slug(request.slug)
        try Validation.email(request.adminEmail, field: "admin_email")
        try Validation.password(request.adminPassword, field: "admin_password")
        let timezone = request.timezone ?? "UTC"
        try Validation.timezone(timezone)

        let address = scope.clientAddress
        let decision = try await database.transaction(.platform) { try await signupThrottle.hit(address, on: $0) }
        if case .limited(let retryAfter) = decision {
            throw APIError.rateLimited(retryAfter: retryAfter, detail: "Too many signups from this address.")
        }

        let idempotencyKey = input.headers.idempotencyKey
        let requestHash = try idempotencyKey.map { _ in
            IdempotencyStore.requestHash(operation: "signup", canonicalBody: try Canonical.encode(request))
        }
        let passwordHash = try await hasher.hash(request.adminPassword)
        let tenantID = TenantID.generate()
        let now = Date()
        let tenant = Tenant(
            id: tenantID, slug: request.slug, name: name, status: .active, plan: .free, timezone: timezone,
            createdAt: now)
        let user = UserRecord(
            id: UUID(), tenantID: tenantID, email: request.adminEmail.trimmingCharacters(in: .whitespaces),
            role: .owner, passwordHash: passwordHash, createdAt: now)
        let key = ApiKeyRecord(
            id: UUID(), tenantID: tenantID, name: "default", scopes: Set(Scope.allCases),
            createdBy: "user:\(user.id.uuidString.lowercased())", createdAt: now,
            expiresAt: now.addingTimeInterval(TimeInterval(configuration.defaultKeyLifetime.components.seconds)))

        do {
            let result = try await database.transaction(.tenant(tenantID)) { connection -> Components.Schemas.SignupResult in
                if let idempotencyKey, let requestHash {
                    switch try await idempotency.claim(
                        key: idempotencyKey, operation: "signup", requestHash: requestHash, in: .signup, on: connection)
                    {
                    case .fresh: break
                    case .mismatch: throw APIError.idempotencyMismatch()
                    case .replay(_, let body):
                        return try JSONDecoder().decode(Components.Schemas.SignupResult.self, from: body)
                    }
                }
                try await tenants.insert(tenant, on: connection)
                try await users.insert(user, on: connection)
                try await keys.insert(key, on: connection)
                let actor = user.id.uuidString.lowercased()
                try await audit.record(
                    AuditLog.Entry(
                        actorType: .user, actorID: actor, action: "tenant.signup", targetType: "tenant",
                        targetID: tenantID.description, requestID: scope.requestID), tenantID: tenantID, on: connection)
                let token = try await issuer.apiKeyToken(for: key, now: now)
                let result = Components.Schemas.SignupResult(
                    tenant: .init(tenant),
                    user: .init(id: user.id.uuidString.lowercased(), email: user.email, role: .owner),
                    apiKey: .init(key, token: token))
                if let idempotencyKey {
                    try await idempotency.complete(
                        key: idempotencyKey, operation: "signup", status: 201, body: try JSONEncoder().encode(result),
                        in: .signup, on: connection)
                }
                return result
            }
            return .created(.init(body: .json(result)))
        } catch {
            switch UniqueViolation(error)?.constraint {
            case nil: throw error
            case "tenants_slug_key": throw APIError.conflict("This slug is taken.")
            case "login_directory_pkey": throw APIError.conflict("This email is already registered.")
            default: throw APIError.conflict("This organisation already exists.")
            }
        }
    }

    func login(_ input: Operations.Login.Input) async throws -> Operations.Login.Output {
        guard case .json(let request) = input.body else { throw APIError.invalid("Send application/json.") }
        let email = UserRecord.normalize(email: request.email)
        guard !email.isEmpty, !request.password.isEmpty else { throw APIError.invalid("email and password are required.") }

        // The attempt is counted, and committed, before the password is checked, so racing attempts
        // cannot slip past the limit; a locked account answers without its password being looked at.
        let (decision, user) = try await database.transaction(.platform) { connection in
            let decision = try await loginThrottle.hit(email, on: connection)
            guard case .allowed = decision else { return (decision, UserRecord?.none) }
            return (decision, try await users.findForLogin(email: email, on: connection))
        }
        if case .limited(let retryAfter) = decision {
            throw APIError.rateLimited(
                retryAfter: retryAfter, detail: "Too many failed sign-in attempts; try again later.")
        }
        let matches = try await hasher.verify(request.password, encoded: user?.passwordHash ?? decoyPasswordHash)
        guard matches, let user else { throw APIError.unauthenticated("The email or password is wrong.") }

        let tenant = try await database.transaction(.tenant(user.tenantID)) { connection -> Tenant? in
            try await loginThrottle.reset(email, on: connection)
            guard let tenant = try await tenants.find(user.tenantID, on: connection), tenant.status == .active else {
                return nil
            }
            try await audit.record(
                AuditLog.Entry(
                    actorType: .user, actorID: user.id.uuidString.lowercased(), action: "user.login",
                    targetType: "user", targetID: user.id.uuidString.lowercased(), requestID: scope.requestID),
                tenantID: user.tenantID, on: connection)
            return tenant
        }
        guard tenant?.status == .active else { throw APIError.tenantSuspended }
        let lifetime = configuration.accessTokenLifetime
        let token = try await issuer.accessToken(for: user, lifetime: lifetime)
        return .ok(.init(body: .json(.init(accessToken: token, tokenType: .bearer, expiresIn: Int(lifetime.components.seconds)))))
    }
}

/// A canonical encoding of a decoded request (sorted keys), so equal bodies hash equally however the
/// client spaced or ordered them.
enum Canonical {
    static func encode(_ value: some Encodable) throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return try encoder.encode(value)
    }
}
