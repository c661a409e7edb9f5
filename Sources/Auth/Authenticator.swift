import Foundation
import Logging
import Persistence
import PostgresNIO
import Tenancy

/// Turns a bearer token into a `Principal`. The common path touches no database: the signature check is
/// cached per token and the key's and tenant's state per credential, both kept fresh by the
/// invalidation listener. A miss costs one tenant-scoped query.
public final class Authenticator: Sendable {
    public let codec: TokenCodec
    public let keyring: SigningKeyring
    public let tokens: VerifiedTokenCache
    public let credentials: CredentialStateCache
    let database: Database
    let usage: KeyUsageRecorder?
    let operatorDenylist: OperatorTokenDenylist
    /// The time tokens and sessions are judged at.
    let clock: ServerClock

    public init(
        codec: TokenCodec, keyring: SigningKeyring, database: Database, tokens: VerifiedTokenCache,
        credentials: CredentialStateCache, usage: KeyUsageRecorder?, clock: ServerClock = .system
    ) {
        self.clock = clock
        self.codec = codec
        self.keyring = keyring
        self.database = database
        self.tokens = tokens
        self.credentials = credentials
        self.usage = usage
        self.operatorDenylist = OperatorTokenDenylist(database: database)
    }

    /// The caller behind `token`, or an `AuthenticationError`.
    public func authenticate(_ token: String, at instant: Date? = nil) async throws -> Principal {
        let now = instant ?? clock.now()
        let claims = try await verifiedClaims(token)
        do {
            try codec.validate(claims, now: now)
        } catch {
            throw AuthenticationError.unauthenticated(error)
        }
        let expiresAt = Date(timeIntervalSince1970: TimeInterval(claims.exp))
        let scopes = Set(claims.scp.compactMap(Scope.init(rawValue:)))

        switch claims.kind {
        case .operator:
            guard claims.op == true, claims.tid == nil, !claims.jti.isEmpty, claims.jti.utf8.count <= 64 else {
                throw AuthenticationError.unauthenticated(.malformed)
            }
            guard try await !operatorDenylist.contains(jti: claims.jti) else {
                throw AuthenticationError.unauthenticated(.revoked)
            }
            return Principal(actor: .operator(claims.sub), tenantID: nil, scopes: [], expiresAt: expiresAt)
        case .apiKey:
            guard let tenant = claims.tid.flatMap(TenantID.init(string:)), let keyID = UUID(uuidString: claims.sub),
                claims.jti == claims.sub, claims.op == nil
            else { throw AuthenticationError.unauthenticated(.malformed) }
            let state = try await check(.key(keyID), tenantID: tenant, now: now)
            usage?.touch(keyID, tenantID: tenant, at: now)
            // A key acts as far as its owner's role allows now: a role lowered since takes scopes away.
            guard let owner = state.userID, let role = state.role else {
                throw AuthenticationError.unauthenticated(.revoked)
            }
            return Principal(
                actor: .apiKey(keyID), tenantID: tenant, scopes: scopes.intersection(role.scopes), expiresAt: expiresAt,
                owner: owner)
        case .access:
            guard let tenant = claims.tid.flatMap(TenantID.init(string:)), let userID = UUID(uuidString: claims.sub),
                claims.op == nil
            else { throw AuthenticationError.unauthenticated(.malformed) }
            // A token of a session lives as long as the session; one without (issued before sessions
            // existed, for at most its short lifetime) as long as the user.
            let credential: Credential
            if let sid = claims.sid {
                guard let session = UUID(uuidString: sid) else { throw AuthenticationError.unauthenticated(.malformed) }
                credential = .session(session)
            } else {
                credential = .user(userID)
            }
            let state = try await check(credential, tenantID: tenant, now: now)
            if case .session = credential, state.userID != userID {
                throw AuthenticationError.unauthenticated(.malformed)
            }
            // The token names the scopes of the role it was issued for; a role lowered since takes them away.
            let role = state.role ?? .member
            return Principal(
                actor: .user(userID), tenantID: tenant, scopes: scopes.intersection(role.scopes), expiresAt: expiresAt,
                owner: userID)
        }
    }

    private func verifiedClaims(_ token: String) async throws -> Claims {
        // A cached signature counts only while the key that verified it is still a verification key.
        if let cached = tokens.entry(for: token), keyring.verificationKey(cached.kid) != nil { return cached.claims }
        var kid = ""
        let keys: (String) -> VerificationKey? = { [keyring] requested in
            kid = requested
            return keyring.verificationKey(requested)
        }
        let claims: Claims
        do {
            claims = try codec.verifySignature(token, keys: keys)
        } catch .unknownKeyID {
            // Another replica may have rotated in a key this one has not loaded yet.
            guard (try? await keyring.reloadIfStale()) == true else {
                throw AuthenticationError.unauthenticated(.unknownKeyID)
            }
            do {
                claims = try codec.verifySignature(token, keys: keys)
            } catch {
                throw AuthenticationError.unauthenticated(error)
            }
        } catch {
            throw AuthenticationError.unauthenticated(error)
        }
        tokens.store(claims, kid: kid, for: token)
        return claims
    }

    /// What a token's validity hangs on.
    enum Credential {
        case key(UUID)
        case user(UUID)
        case session(UUID)

        var id: UUID {
            switch self {
            case .key(let id), .user(let id), .session(let id): id
            }
        }
    }

    @discardableResult
    private func check(_ credential: Credential, tenantID: TenantID, now: Date) async throws
        -> CredentialStateCache.State
    {
        let state: CredentialStateCache.State
        if let cached = credentials.state(for: credential.id), cached.tenantID == tenantID {
            state = cached
        } else {
            // Read the generation first: a revocation announced while the read runs makes `store` refuse.
            let generation = credentials.generation
            state = try await fetchState(credential, tenantID: tenantID)
            credentials.store(state, for: credential.id, readAt: generation)
        }
        guard state.exists, state.revokedAt.map({ $0 > now }) ?? true else {
            throw AuthenticationError.unauthenticated(.revoked)
        }
        guard state.tenantStatus == .active else { throw AuthenticationError.tenantSuspended }
        return state
    }

    private func fetchState(_ credential: Credential, tenantID: TenantID) async throws
        -> CredentialStateCache.State
    {
        try await database.withTenant(tenantID) { transaction in
            let rows: PostgresRowSequence
            switch credential {
            case .key(let id):
                // Gone with its owner; the owner's role and id come along, so a change to the owner drops
                // the key's cached state too (`CredentialStateCache.invalidate(user:)`).
                rows = try await transaction.query(
                    """
                    SELECT t.status, k.key_id IS NOT NULL AND u.user_id IS NOT NULL, k.revoked_at, u.role, u.user_id
                    FROM tenants t
                    LEFT JOIN api_keys k ON k.tenant_id = t.tenant_id AND k.key_id = \(id)
                    LEFT JOIN users u ON u.tenant_id = t.tenant_id AND u.user_id = k.owner_user_id
                    WHERE t.tenant_id = \(tenantID.rawValue)
                    """)
            case .user(let id):
                rows = try await transaction.query(
                    """
                    SELECT t.status, u.user_id IS NOT NULL, NULL::timestamptz, u.role, u.user_id FROM tenants t
                    LEFT JOIN users u ON u.tenant_id = t.tenant_id AND u.user_id = \(id)
                    WHERE t.tenant_id = \(tenantID.rawValue)
                    """)
            case .session(let id):
                // Usable until it ends, goes idle or reaches its absolute end; gone with its user.
                rows = try await transaction.query(
                    """
                    SELECT t.status, u.user_id IS NOT NULL,
                           LEAST(s.ended_at, s.idle_expires_at, s.absolute_expires_at), u.role, s.user_id
                    FROM tenants t
                    LEFT JOIN sessions s ON s.tenant_id = t.tenant_id AND s.session_id = \(id)
                    LEFT JOIN users u ON u.tenant_id = t.tenant_id AND u.user_id = s.user_id
                    WHERE t.tenant_id = \(tenantID.rawValue)
                    """)
            }
            for try await (status, exists, revokedAt, role, user) in rows.decode(
                (String, Bool, Date?, String?, UUID?).self)
            {
                return CredentialStateCache.State(
                    tenantID: tenantID, exists: exists, revokedAt: revokedAt,
                    tenantStatus: Tenant.Status(rawValue: status), role: role.flatMap(Role.init(rawValue:)),
                    userID: user)
            }
            return CredentialStateCache.State(tenantID: tenantID, exists: false, revokedAt: nil, tenantStatus: nil)
        }
    }
}
