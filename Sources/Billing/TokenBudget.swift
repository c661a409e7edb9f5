import Foundation
import Logging
import Persistence
import PostgresNIO

/// Reserve before a provider call, record what the provider billed after it, release what is left.
/// Each step is one durable statement (a SQL function that sets the tenant for its own implicit
/// transaction), so the counters of a period and the ledger move together and concurrent reservations
/// from any number of replicas never pass the limit.
public struct TokenBudget: Sendable {
    let database: Database
    /// How long a reservation lives before the sweeper releases it, should its holder die.
    public let reservationLifetime: Duration
    /// A tenant's concurrent settlements, batched into one statement and one commit.
    let settlements: TenantBatcher<RecordUsageStatement, Int64>

    public init(database: Database, reservationLifetime: Duration) {
        self.database = database
        self.reservationLifetime = reservationLifetime
        self.settlements = Self.settlementBatcher(database)
    }

    /// Holds `tokens` (the call's worst case) for one call, or under `degrade` what remains when that is at
    /// least `minimum`; throws `BudgetExhausted` when nothing can be held. `date` places the reservation in
    /// a period (the database's clock when nil). The reservation lives `lifetime` (at least
    /// `reservationLifetime`) unless released sooner.
    public func reserve(
        _ tokens: Int64, minimum: Int64 = 1, for tenantID: TenantID, at date: Date? = nil, lifetime: Duration? = nil
    ) async throws -> Reservation {
        let id = UUID()
        let ttl = Int(clamping: max(reservationLifetime, lifetime ?? .zero).components.seconds)
        let rows = try await database.query(
            """
            SELECT granted, tokens, period, period_start, period_end, token_limit, used, reserved
            FROM budget_reserve(\(tenantID.rawValue), \(id), \(max(1, tokens)), \(max(1, minimum)), \(ttl)::integer, \(date))
            """, for: tenantID, logger: database.logger)
        for try await (granted, held, period, start, end, limit, used, reserved) in rows.decode(
            (Bool, Int64, String, Date, Date, Int64, Int64, Int64).self)
        {
            let periodKind = Budget.Period(rawValue: period) ?? .month
            guard granted else {
                throw BudgetExhausted(
                    period: periodKind, periodStart: start, resetsAt: end, tokenLimit: limit, used: used,
                    reserved: reserved, requested: tokens)
            }
            return Reservation(
                id: id, tenantID: tenantID, tokens: held, requested: tokens, period: periodKind, periodStart: start,
                resetsAt: end, tokenLimit: limit, usedBefore: used)
        }
        throw BudgetNotFound()
    }

    /// Appends `usage` to the ledger and charges it (unless cached) to the reservation's period; with
    /// `release`, the reservation ends in the same statement. Every billed attempt is recorded, retries
    /// included, before the final one releases. Concurrent settlements of a tenant share one commit
    /// (`settlementBatcher`).
    @discardableResult
    public func record(_ usage: Usage, against reservation: Reservation?, release: Bool, for tenantID: TenantID)
        async throws -> Int64
    {
        try await settlements.submit(
            RecordUsageStatement(tenantID: tenantID, reservation: reservation?.id, release: release, usage: usage),
            for: tenantID)
    }

    /// Ends a reservation without charging anything; answers whether it was still open.
    @discardableResult
    public func release(_ reservation: Reservation) async throws -> Bool {
        try await release(reservation.id, of: reservation.tenantID)
    }

    @discardableResult
    func release(_ id: UUID, of tenantID: TenantID) async throws -> Bool {
        let rows = try await database.query(
            "SELECT budget_release(\(tenantID.rawValue), \(id))", for: tenantID, logger: database.logger)
        for try await released in rows.decode(Bool.self) { return released }
        return false
    }

    /// Releases every reservation whose lifetime has passed (its holder died or hung); answers how many.
    public func sweepExpired(limit: Int = 1000) async throws -> Int {
        let expired = try await database.transaction(.maintenance) { connection in
            var found: [(TenantID, UUID)] = []
            let rows = try await connection.statement(
                """
                SELECT tenant_id, reservation_id FROM budget_reservations WHERE expires_at < now()
                ORDER BY expires_at LIMIT \(limit)
                """, logger: database.logger)
            for try await (tenant, reservation) in rows.decode((UUID, UUID).self) {
                found.append((TenantID(tenant), reservation))
            }
            return found
        }
        var released = 0
        for (tenant, reservation) in expired where try await release(reservation, of: tenant) {
            released += 1
        }
        return released
    }
}

/// Tokens held for one provider call.
public struct Reservation: Sendable, Equatable {
    public let id: UUID
    public let tenantID: TenantID
    /// Tokens held: the worst case asked for, or under `degrade` what remained.
    public let tokens: Int64
    public let requested: Int64
    public let period: Budget.Period
    public let periodStart: Date
    public let resetsAt: Date
    public let tokenLimit: Int64
    /// The period's billed tokens when the reservation was made.
    public let usedBefore: Int64

    public init(
        id: UUID, tenantID: TenantID, tokens: Int64, requested: Int64, period: Budget.Period, periodStart: Date,
        resetsAt: Date, tokenLimit: Int64, usedBefore: Int64
    ) {
        self.id = id
        self.tenantID = tenantID
        self.tokens = tokens
        self.requested = requested
        self.period = period
        self.periodStart = periodStart
        self.resetsAt = resetsAt
        self.tokenLimit = tokenLimit
        self.usedBefore = usedBefore
    }

    /// Whether the reservation holds less than was asked (the budget degraded the call).
    public var isDegraded: Bool { tokens < requested }
}

/// No reservation could be made: the budget of `period` cannot fit the call.
public struct BudgetExhausted: Error, Sendable, Equatable {
    public let period: Budget.Period
    public let periodStart: Date
    public let resetsAt: Date
    public let tokenLimit: Int64
    public let used: Int64
    public let reserved: Int64
    public let requested: Int64

    public init(
        period: Budget.Period, periodStart: Date, resetsAt: Date, tokenLimit: Int64, used: Int64, reserved: Int64,
        requested: Int64
    ) {
        self.period = period
        self.periodStart = periodStart
        self.resetsAt = resetsAt
        self.tokenLimit = tokenLimit
        self.used = used
        self.reserved = reserved
        self.requested = requested
    }
}

/// One ledger entry: what one provider attempt billed, or a cache hit (cached, free).
public struct Usage: Sendable, Equatable {
    public var requestID: String?
    public var jobID: UUID?
    /// The task kind (`chat`, `commitments`, ...).
    public var kind: String
    public var provider: String
    public var model: String
    public var promptTokens: Int64
    public var completionTokens: Int64
    /// Reasoning or thinking tokens, billed as output; part of `totalTokens`.
    public var reasoningTokens: Int64
    public var totalTokens: Int64
    public var cached: Bool
    public var costMicros: Int64

    public init(
        requestID: String?, jobID: UUID? = nil, kind: String, provider: String, model: String, promptTokens: Int64,
        completionTokens: Int64, reasoningTokens: Int64, totalTokens: Int64, cached: Bool, costMicros: Int64
    ) {
        self.requestID = requestID
        self.jobID = jobID
        self.kind = kind
        self.provider = provider
        self.model = model
        self.promptTokens = promptTokens
        self.completionTokens = completionTokens
        self.reasoningTokens = reasoningTokens
        self.totalTokens = totalTokens
        self.cached = cached
        self.costMicros = costMicros
    }
}

/// `budget_record_usage`, prepared once per connection: every gateway call and runtime job settles
/// through it.
struct RecordUsageStatement: PostgresPreparedStatement {
    static let sql = """
        SELECT record_id FROM budget_record_usage($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)
        """
    typealias Row = Int64
    let tenantID: TenantID
    let reservation: UUID?
    let release: Bool
    let usage: Usage

    func makeBindings() throws -> PostgresBindings {
        var bindings = PostgresBindings()
        bindings.append(tenantID.rawValue)
        bindings.append(reservation)
        bindings.append(release)
        bindings.append(usage.requestID)
        bindings.append(usage.jobID)
        bindings.append(usage.kind)
        bindings.append(usage.provider)
        bindings.append(usage.model)
        bindings.append(usage.promptTokens)
        bindings.append(usage.completionTokens)
        bindings.append(usage.reasoningTokens)
        bindings.append(usage.totalTokens)
        bindings.append(usage.cached)
        bindings.append(usage.costMicros)
        return bindings
    }

    func decodeRow(_ row: PostgresRow) throws -> Row { try row.decode(Row.self) }
}
