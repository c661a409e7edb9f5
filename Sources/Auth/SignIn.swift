import Foundation
import Persistence
import Tenancy

/// A user signed in: their account and the session that began, with its first refresh token.
public struct SignedIn: Sendable {
    public let user: UserRecord
    public let session: SessionRecord
    public let refresh: RefreshToken
    /// The time the session was started or rotated at, which its tokens are dated from.
    public let now: Date
}

/// Signing in: a password checked behind its limits, and the session every way of signing in starts.
///
/// Every password attempt is counted, and committed, before the password is checked (across the platform,
/// per client address, per email), so racing attempts cannot slip past a limit and a limited attempt costs
/// no hashing; a replica that has seen a subject refused refuses it again from memory. An unknown email is
/// verified against a decoy hash, so it costs what a wrong password costs. A wrong password for a known
/// account is in that tenant's audit log; a right one clears the email's failures.
public struct SignIn: Sendable {
    /// The limits a password attempt is counted against.
    public struct Throttles: Sendable {
        public let failuresPerEmail: FixedWindowThrottle
        public let perAddress: FixedWindowThrottle
        public let global: FixedWindowThrottle

        public init(failuresPerEmail: FixedWindowThrottle, perAddress: FixedWindowThrottle, global: FixedWindowThrottle)
        {
            self.failuresPerEmail = failuresPerEmail
            self.perAddress = perAddress
            self.global = global
        }
    }

    let database: Database
    let hasher: PasswordHasher
    /// Verified against when an email is unknown.
    let decoyPasswordHash: String
    let throttles: Throttles
    let sessions: SessionRepository
    let sessionPolicy: SessionPolicy
    let clock: ServerClock
    let users = UserRepository()
    let tenants = TenantRepository()
    let audit = AuditLog()

    public init(
        database: Database, hasher: PasswordHasher, decoyPasswordHash: String, throttles: Throttles,
        sessions: SessionRepository, sessionPolicy: SessionPolicy, clock: ServerClock
    ) {
        self.database = database
        self.hasher = hasher
        self.decoyPasswordHash = decoyPasswordHash
        self.throttles = throttles
        self.sessions = sessions
        self.sessionPolicy = sessionPolicy
        self.clock = clock
    }

    public static let tooMany = "Too many sign-in attempts; try again later."
    static let wrongPassword = Refusal.unauthenticated("The email or password is wrong.")

    /// Signs in with an email and password; refuses a wrong pair alike whether or not the email is known.
    public func password(email: String, password: String, requestID: String?, clientAddress: String)
        async throws -> SignedIn
    {
        // An email that normalises to nothing names no account: it fails like any unknown email.
        let email = UserRecord.normalize(email: email)
        let checks = [
            (throttles.global, "*"), (throttles.perAddress, clientAddress), (throttles.failuresPerEmail, email),
        ]
        for (throttle, subject) in checks {
            if case .limited(let retryAfter)? = throttle.remembered(subject) {
                throw Refusal.limited(retryAfter: retryAfter, Self.tooMany)
            }
        }
        let (decision, user) = try await database.transaction(.platform) { connection in
            for (throttle, subject) in checks {
                let decision = try await throttle.hit(subject, on: connection)
                if case .limited = decision { return (decision, UserRecord?.none) }
            }
            return (
                FixedWindowThrottle.Decision.allowed(remaining: 0),
                try await users.findForLogin(email: email, on: connection)
            )
        }
        if case .limited(let retryAfter) = decision { throw Refusal.limited(retryAfter: retryAfter, Self.tooMany) }
        let matches = try await hasher.verify(password, encoded: user?.passwordHash ?? decoyPasswordHash)
        guard matches, let user else {
            if let user {
                try await database.withTenant(user.tenantID) { transaction in
                    try await audit.record(
                        AuditLog.Caller.user(user.id, requestID: requestID, clientAddress: clientAddress).entry(
                            "user.login_failed", targetType: "user", targetID: user.id.text,
                            details: ["method": "password"]), in: transaction)
                }
            }
            throw Self.wrongPassword
        }
        return try await start(for: user, method: .password, requestID: requestID, clientAddress: clientAddress) {
            try await throttles.failuresPerEmail.reset(email, on: $0.connection)
        }
    }

    /// Starts a session for `user`, who signed in by `method`: in one transaction of their tenant (which
    /// must be active), their row held so a removal at this moment either waits or refuses this, `also`
    /// done, the sign-in audited and the session started.
    public func start(
        for user: UserRecord, method: SessionRecord.Method, requestID: String?, clientAddress: String?,
        also: (TenantTransaction) async throws -> Void = { _ in }
    ) async throws -> SignedIn {
        let now = clock.now()
        return try await database.withTenant(user.tenantID) { transaction in
            try await also(transaction)
            guard let tenant = try await tenants.find(in: transaction), tenant.status == .active else {
                throw AuthenticationError.tenantSuspended
            }
            guard try await users.find(user.id, locking: true, in: transaction) != nil else {
                throw Refusal.unauthenticated("This account no longer exists.")
            }
            try await audit.record(
                AuditLog.Caller.user(user.id, requestID: requestID, clientAddress: clientAddress).entry(
                    "user.login", targetType: "user", targetID: user.id.text, details: ["method": method.rawValue]),
                in: transaction)
            let (session, refresh) = try await sessions.start(
                userID: user.id, method: method, policy: sessionPolicy, clientAddress: clientAddress, now: now,
                in: transaction)
            return SignedIn(user: user, session: session, refresh: refresh, now: now)
        }
    }
}
