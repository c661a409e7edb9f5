import Foundation
import Persistence
import PostgresNIO

/// How long sessions last: `idle` without a refresh, `absolute` in all.
public struct SessionPolicy: Sendable {
    public let idle: Duration
    public let absolute: Duration

    public init(idle: Duration, absolute: Duration) {
        self.idle = idle
        self.absolute = absolute
    }
}

/// One sign-in of one user.
public struct SessionRecord: Sendable, Equatable {
    /// How the session began.
    public enum Method: String, Sendable {
        case password, invitation, github
    }

    public let id: UUID
    public let userID: UUID
    public let method: Method
    public let generation: UInt32
    public let createdAt: Date
    public let idleExpiresAt: Date
    public let absoluteExpiresAt: Date
    public let endedAt: Date?

    /// When the session stops being usable, as things stand: ended, idle or at its absolute end.
    public var endsAt: Date { [endedAt, idleExpiresAt, absoluteExpiresAt].compactMap { $0 }.min() ?? createdAt }
}

/// Reads and writes `sessions` in tenant transactions. Every end of a session is announced on the
/// invalidation channel, so its access tokens stop on every replica within a second.
public struct SessionRepository: Sendable {
    let box: SecretBox

    public init(box: SecretBox) {
        self.box = box
    }

    public static func sealContext(_ tenant: TenantID, session: UUID) -> String {
        "session-seed:\(tenant):\(session.uuidString.lowercased())"
    }

    /// What presenting a refresh token came to.
    public enum Refresh: Sendable {
        /// The session goes on: its next generation's token.
        case rotated(SessionRecord, RefreshToken)
        /// An older generation came back: the session has been ended.
        case reused(SessionRecord)
        /// Unknown, forged, ended or expired.
        case refused
    }

    private static let columns =
        "session_id, user_id, method, generation, created_at, idle_expires_at, absolute_expires_at, ended_at, seed_sealed"
    private typealias Row = (UUID, UUID, String, Int32, Date, Date, Date, Date?, ByteBuffer)

    private static func record(_ row: Row) -> SessionRecord {
        SessionRecord(
            id: row.0, userID: row.1, method: SessionRecord.Method(rawValue: row.2) ?? .password,
            generation: UInt32(clamping: row.3), createdAt: row.4, idleExpiresAt: row.5, absoluteExpiresAt: row.6,
            endedAt: row.7)
    }

    /// Starts a session for `userID`; answers it with its first refresh token.
    public func start(
        userID: UUID, method: SessionRecord.Method, policy: SessionPolicy, clientAddress: String?, now: Date,
        in transaction: TenantTransaction
    ) async throws -> (SessionRecord, RefreshToken) {
        let tenant = transaction.tenantID
        let id = UUID()
        let seed = RefreshToken.newSeed()
        let sealed = Data(try box.seal(seed, context: Self.sealContext(tenant, session: id)))
        let absolute = now.addingTimeInterval(Self.seconds(policy.absolute))
        let idle = min(absolute, now.addingTimeInterval(Self.seconds(policy.idle)))
        try await transaction.query(
            """
            INSERT INTO sessions (tenant_id, session_id, user_id, method, seed_sealed, created_at, refreshed_at,
                                  idle_expires_at, absolute_expires_at, client_address)
            VALUES (\(tenant.rawValue), \(id), \(userID), \(method.rawValue), \(sealed), \(now), \(now), \(idle),
                    \(absolute), \(clientAddress.map { String($0.prefix(64)) }))
            """)
        let session = SessionRecord(
            id: id, userID: userID, method: method, generation: 0, createdAt: now, idleExpiresAt: idle,
            absoluteExpiresAt: absolute, endedAt: nil)
        return (session, RefreshToken(tenantID: tenant, sessionID: id, generation: 0, seed: seed))
    }

    /// Rotates the session `token` belongs to: the current generation moves on; an older one ends the
    /// session (reuse); anything else is refused. The row is locked, so two refreshes with one token
    /// serialise and the second is reuse.
    public func refresh(_ token: RefreshToken, policy: SessionPolicy, now: Date, in transaction: TenantTransaction)
        async throws -> Refresh
    {
        guard let (session, seed) = try await lockIssuing(token, in: transaction) else { return .refused }
        guard session.endedAt == nil else { return .refused }
        if token.generation < session.generation {
            return .reused(try await end(session, reason: "reuse", now: now, in: transaction))
        }
        guard token.generation == session.generation, session.generation < UInt32(Int32.max) else { return .refused }
        guard now < session.idleExpiresAt, now < session.absoluteExpiresAt else {
            _ = try await end(session, reason: "expired", now: now, in: transaction)
            return .refused
        }
        let next = session.generation + 1
        let idle = min(session.absoluteExpiresAt, now.addingTimeInterval(Self.seconds(policy.idle)))
        try await transaction.query(
            """
            UPDATE sessions SET generation = \(Int32(next)), refreshed_at = \(now), idle_expires_at = \(idle)
            WHERE tenant_id = \(transaction.tenantID.rawValue) AND session_id = \(session.id)
            """)
        let rotated = SessionRecord(
            id: session.id, userID: session.userID, method: session.method, generation: next,
            createdAt: session.createdAt, idleExpiresAt: idle, absoluteExpiresAt: session.absoluteExpiresAt,
            endedAt: nil)
        return .rotated(
            rotated, RefreshToken(tenantID: transaction.tenantID, sessionID: session.id, generation: next, seed: seed))
    }

    /// Ends the session `token` belongs to (logout); nil when the token is not one the session issued.
    /// Ending an ended session changes nothing (`endedNow` false).
    public func logout(_ token: RefreshToken, now: Date, in transaction: TenantTransaction) async throws
        -> (session: SessionRecord, endedNow: Bool)?
    {
        guard let (session, _) = try await lockIssuing(token, in: transaction) else { return nil }
        guard session.endedAt == nil else { return (session, false) }
        return (try await end(session, reason: "logout", now: now, in: transaction), true)
    }

    /// The session `token` names, locked, with its seed, if the session issued `token`.
    private func lockIssuing(_ token: RefreshToken, in transaction: TenantTransaction) async throws
        -> (SessionRecord, Data)?
    {
        guard token.tenantID == transaction.tenantID else { return nil }
        let rows = try await transaction.query(
            """
            SELECT \(unescaped: Self.columns) FROM sessions
            WHERE tenant_id = \(transaction.tenantID.rawValue) AND session_id = \(token.sessionID) FOR UPDATE
            """)
        var found: (SessionRecord, ByteBuffer)?
        for try await row in rows.decode(Row.self) { found = (Self.record(row), row.8) }
        guard let (session, sealed) = found else { return nil }
        let seed = try box.open(
            Array(buffer: sealed), context: Self.sealContext(transaction.tenantID, session: session.id))
        guard token.isIssued(bySeed: Data(seed)) else { return nil }
        return (session, Data(seed))
    }

    private func end(_ session: SessionRecord, reason: String, now: Date, in transaction: TenantTransaction)
        async throws -> SessionRecord
    {
        try await transaction.query(
            """
            UPDATE sessions SET ended_at = \(now), end_reason = \(reason)
            WHERE tenant_id = \(transaction.tenantID.rawValue) AND session_id = \(session.id) AND ended_at IS NULL
            """)
        try await ApiKeyRepository.announce("session:\(session.id.uuidString.lowercased())", on: transaction.connection)
        return SessionRecord(
            id: session.id, userID: session.userID, method: session.method, generation: session.generation,
            createdAt: session.createdAt, idleExpiresAt: session.idleExpiresAt,
            absoluteExpiresAt: session.absoluteExpiresAt, endedAt: now)
    }

    private static func seconds(_ duration: Duration) -> TimeInterval {
        TimeInterval(duration.components.seconds)
    }
}
