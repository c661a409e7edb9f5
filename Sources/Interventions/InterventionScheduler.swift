import Billing
import BlockingWork
import Foundation
import Gateway
import Logging
import Persistence
import PostgresNIO
import ServiceLifecycle

/// How the scheduler works: how often it looks for due commitments and escalations, how many it takes
/// at once, how long it holds one (a worker that dies holding it lets it go after the lease), and
/// the tenants it is limited to (nil: all; a canary rollout, or a test sharing its database).
public struct InterventionSchedulerSettings: Sendable {
    public var pollInterval: Duration
    public var batch: Int
    public var lease: Duration
    public var tenants: [TenantID]?

    public init(
        pollInterval: Duration = .seconds(30), batch: Int = 20, lease: Duration = .seconds(300),
        tenants: [TenantID]? = nil
    ) {
        self.pollInterval = pollInterval
        self.batch = batch
        self.lease = lease
        self.tenants = tenants
    }
}

/// What the receiving side answered to interventions (accepted, dismissed), for metrics.
public protocol InterventionOutcomeObserver: Sendable {
    func outcome(_ outcome: String)
}

/// What the scheduler reports, for metrics.
public protocol InterventionObserver: Sendable {
    /// A due commitment became `closed` (a later commit), `created` (sent to its owner), `escalated`
    /// (sent to the manager) or `retrying` (the message could not be written yet).
    func step(_ outcome: String)
}

/// Turns overdue commitments into interventions. The schedule is the `interventions` table: each pass
/// claims the rows whose `next_check_at` has come, across tenants, with a lease (`FOR UPDATE SKIP
/// LOCKED`), so any number of workers share the work and one that dies gives its rows back when the lease
/// ends. A watched commitment that a later commit by the same author in the same repository names is
/// closed; otherwise the LLM gateway writes the message (task kind `intervention`, the tenant's policy,
/// budget and ledger) and one conditional update makes the intervention and queues its events in the same
/// transaction, so it is made once however many workers or restarts saw it due. An open intervention
/// with a manager is escalated the same way after the tenant's delay. A suspended tenant's rows wait.
public struct InterventionScheduler: Service {
    let database: Database
    let gateway: LLMGateway
    let store: InterventionStore
    let clock: ServerClock
    let settings: InterventionSchedulerSettings
    let observer: (any InterventionObserver)?
    let logger: Logger

    public init(
        database: Database, gateway: LLMGateway, store: InterventionStore, clock: ServerClock,
        settings: InterventionSchedulerSettings, observer: (any InterventionObserver)?, logger: Logger
    ) {
        self.database = database
        self.gateway = gateway
        self.store = store
        self.clock = clock
        self.settings = settings
        self.observer = observer
        self.logger = logger
    }

    public func run() async throws {
        // Limited to no tenant at all: nothing to look for, so no query every poll.
        if settings.tenants?.isEmpty == true {
            try? await gracefulShutdown()
            return
        }
        await Periodic.runInBatches(
            every: settings.pollInterval, onShutdown: .cancelThePass, logger: logger,
            failure: "the intervention scheduler's pass failed"
        ) { () async throws -> Periodic.Next in
            try await runDue() == settings.batch ? .again : .pause
        }
    }

    /// A claimed row: a watched commitment come due, or an open intervention whose escalation came due.
    struct Claimed: Sendable {
        let tenantID: TenantID
        let id: UUID
        let status: String
        let attempts: Int
    }

    /// One pass: claims what is due and works each; answers how many were claimed.
    @discardableResult
    public func runDue() async throws -> Int {
        let now = clock.now()
        let lease = now.addingTimeInterval(Double(settings.lease.components.seconds))
        let limited = settings.tenants != nil
        let tenants = (settings.tenants ?? []).map(\.rawValue)
        let claimed = try await database.transaction(.maintenance) { connection -> [Claimed] in
            let rows = try await connection.statement(
                """
                UPDATE interventions i SET next_check_at = \(lease), attempts = i.attempts + 1
                FROM (SELECT tenant_id, intervention_id FROM interventions
                      WHERE status IN ('watching', 'open') AND next_check_at <= \(now)
                        AND (NOT \(limited) OR tenant_id = ANY(\(tenants)))
                        AND EXISTS (SELECT 1 FROM tenants t
                                    WHERE t.tenant_id = interventions.tenant_id AND t.status = 'active')
                      ORDER BY next_check_at LIMIT \(settings.batch)::integer
                      FOR UPDATE SKIP LOCKED) AS c
                WHERE i.tenant_id = c.tenant_id AND i.intervention_id = c.intervention_id
                RETURNING i.tenant_id, i.intervention_id, i.status, i.attempts
                """, logger: database.logger)
            var claimed: [Claimed] = []
            for try await row in rows.decode((UUID, UUID, String, Int32).self) {
                claimed.append(Claimed(tenantID: TenantID(row.0), id: row.1, status: row.2, attempts: Int(row.3)))
            }
            return claimed
        }
        // The claimed rows are independent (each its own tenant transactions and gateway call): worked at once.
        await withTaskGroup(of: Void.self) { group in
            for item in claimed {
                group.addTask {
                    do {
                        try await work(item, now: now)
                    } catch {
                        await retryLater(item, now: now, reason: Self.describe(error))
                    }
                }
            }
        }
        return claimed.count
    }

    /// What the scheduler needs of a claimed row, read in its tenant's transaction.
    struct Context: Sendable {
        var row: DueCommitment
        var settings: InterventionSettings
        var ownerHandle: String?
        var managerEmail: String?
        var managerHandle: String?
        /// The sha of a later commit that closes the promise.
        var closedBy: String?
    }

    func work(_ item: Claimed, now: Date) async throws {
        guard let context = try await context(of: item) else { return }
        if item.status == "watching" {
            try await makeIntervention(item, context: context, now: now)
        } else {
            try await escalate(item, context: context, now: now)
        }
    }

    /// A watched commitment come due: closed by a later commit, or turned into an intervention.
    func makeIntervention(_ item: Claimed, context: Context, now: Date) async throws {
        if let closedBy = context.closedBy {
            try await finishWatch(item, closedBy: closedBy, reason: nil)
            observer?.step("closed")
            return
        }
        guard context.settings.enabled else {
            try await finishWatch(item, closedBy: nil, reason: "Interventions were turned off when it came due.")
            return
        }
        let row = context.row
        let written = try await InterventionWriter(gateway: gateway).write(
            row, audience: .owner, tone: context.settings.tone, recipient: row.authorEmail, tenantID: item.tenantID)
        let escalateAt =
            context.managerEmail == nil
            ? nil : now.addingTimeInterval(Double(context.settings.escalationDelaySeconds))
        let made = try await database.withTenant(item.tenantID) { transaction -> Bool in
            let opened = try await store.changed(
                """
                UPDATE interventions
                SET status = 'open', message = \(written.message), tone = \(context.settings.tone),
                    owner_handle = \(context.ownerHandle), manager_email = \(context.managerEmail),
                    provider = \(written.provider), model = \(written.model), total_tokens = \(written.totalTokens),
                    created_at = \(now), escalate_at = \(escalateAt),
                    next_check_at = COALESCE(\(escalateAt), 'infinity'::timestamptz), attempts = 0, last_error = NULL
                WHERE tenant_id = \(transaction.tenantID.rawValue) AND intervention_id = \(item.id)
                  AND status = 'watching'
                RETURNING \(unescaped: InterventionStore.columns)
                """, in: transaction)
            guard let record = opened else { return false }
            try await InterventionEvents.queue(
                record, audience: .owner, message: written.message, recipientHandle: context.ownerHandle,
                recipientEmail: row.authorEmail, in: transaction)
            return true
        }
        if made { observer?.step("created") }
    }

    /// An open intervention whose delay ran out: its manager is told.
    func escalate(_ item: Claimed, context: Context, now: Date) async throws {
        guard let manager = context.managerEmail, context.settings.enabled else {
            // No manager to tell, or interventions turned off since: nothing more is due.
            _ = try await database.withTenant(item.tenantID) { transaction in
                try await transaction.query(
                    """
                    UPDATE interventions SET next_check_at = 'infinity', attempts = 0
                    WHERE tenant_id = \(transaction.tenantID.rawValue) AND intervention_id = \(item.id)
                      AND status = 'open'
                    """)
            }
            return
        }
        let written = try await InterventionWriter(gateway: gateway).write(
            context.row, audience: .manager, tone: context.settings.tone, recipient: manager, tenantID: item.tenantID)
        let escalated = try await database.withTenant(item.tenantID) { transaction -> Bool in
            let changed = try await store.changed(
                """
                UPDATE interventions
                SET status = 'escalated', escalation_message = \(written.message), escalated_at = \(now),
                    manager_email = \(manager), total_tokens = total_tokens + \(written.totalTokens),
                    next_check_at = 'infinity', attempts = 0, last_error = NULL
                WHERE tenant_id = \(transaction.tenantID.rawValue) AND intervention_id = \(item.id) AND status = 'open'
                RETURNING \(unescaped: InterventionStore.columns)
                """, in: transaction)
            guard let record = changed else { return false }
            try await InterventionEvents.queue(
                record, audience: .manager, message: written.message, recipientHandle: context.managerHandle,
                recipientEmail: manager, in: transaction)
            return true
        }
        if escalated { observer?.step("escalated") }
    }

    /// Ends a watch: closed by a later commit, or not sent (with the reason).
    func finishWatch(_ item: Claimed, closedBy: String?, reason: String?) async throws {
        _ = try await database.withTenant(item.tenantID) { transaction in
            try await transaction.query(
                """
                UPDATE interventions SET status = 'closed', closed_by_sha = \(closedBy), last_error = \(reason),
                    next_check_at = 'infinity'
                WHERE tenant_id = \(transaction.tenantID.rawValue) AND intervention_id = \(item.id)
                  AND status = 'watching'
                """)
        }
    }

    /// A step that failed (no budget left, every provider down, the database away) is tried again later:
    /// a minute after the first failure, doubling, at most an hour apart.
    func retryLater(_ item: Claimed, now: Date, reason: String) async {
        let pause = min(3600, 60 * pow(2, Double(min(item.attempts, 12) - 1)))
        let next = now.addingTimeInterval(pause)
        observer?.step("retrying")
        logger.notice(
            "an intervention step will be tried again",
            metadata: ["tenant_id": "\(item.tenantID)", "intervention_id": "\(item.id)", "error": "\(reason)"])
        do {
            _ = try await database.withTenant(item.tenantID) { transaction in
                try await transaction.query(
                    """
                    UPDATE interventions SET next_check_at = \(next), last_error = \(String(reason.prefix(500)))
                    WHERE tenant_id = \(transaction.tenantID.rawValue) AND intervention_id = \(item.id)
                      AND status = \(item.status)
                    """)
            }
        } catch {
            logger.warning(
                "an intervention's retry was not recorded; it is tried again after its lease",
                metadata: ["intervention_id": "\(item.id)", "error": "\(error)"])
        }
    }

    static func describe(_ error: any Error) -> String {
        switch error {
        case let exhausted as BudgetExhausted: "The token budget is exhausted until \(exhausted.resetsAt)."
        case let gateway as GatewayError: "The LLM gateway did not answer: \(gateway)."
        case let malformed as MalformedAnswer: "The model's answer did not fit its schema: \(malformed.reason)."
        default: "\(error)"
        }
    }
}
