import AsyncHTTPClient
import BlockingWork
import Foundation
import Logging
import NIOCore
import NIOHTTP1
import Persistence
import PostgresNIO
import Providers
import ServiceLifecycle
import Tenancy

/// How the sender works: how often it looks for due events, how many it takes at once, how long a
/// receiver has to answer, and the retry schedule (`backoffBase` × 4ⁿ⁻¹, capped, ±20 %, for at most
/// `maxAttempts` attempts).
public struct NotificationSenderSettings: Sendable {
    public var pollInterval: Duration
    public var batch: Int
    public var timeout: Duration
    public var maxAttempts: Int
    public var backoffBase: Duration
    public var backoffCap: Duration
    /// Events of one tenant out at once on this replica (its URL's and its Slack webhook's together).
    public var perTenant: Int

    public init(
        pollInterval: Duration = .seconds(1), batch: Int = 50, timeout: Duration = .seconds(10), maxAttempts: Int = 8,
        backoffBase: Duration = .seconds(5), backoffCap: Duration = .seconds(6 * 3600), perTenant: Int = 4
    ) {
        self.perTenant = max(1, perTenant)
        self.pollInterval = pollInterval
        self.batch = batch
        self.timeout = timeout
        self.maxAttempts = maxAttempts
        self.backoffBase = backoffBase
        self.backoffCap = backoffCap
    }

    /// The pause before attempt `attempt + 1`: ×4 per attempt, ±20 %, at most `backoffCap`.
    func backoff(after attempt: Int) -> Double {
        Backoff(base: backoffBase, factor: 4, cap: backoffCap).delay(after: attempt).seconds
    }
}

/// What the sender reports, for metrics.
public protocol NotificationObserver: Sendable {
    /// One attempt ended: `delivered`, `retrying`, `failed` (given up) or `refused` (address guard).
    func attempt(outcome: String)
}

/// Delivers the tenants' events to their URLs, signed the Standard Webhooks way, each attempt within one
/// deadline (`timeout`, the answer's body included) and at most `perTenant` of one tenant's at once. Every process that runs
/// it claims due events of any tenant with a lease (`FOR UPDATE SKIP LOCKED`, so no two send the same
/// attempt); each attempt is logged; an answer other than 2xx within the timeout is retried on the
/// schedule, then the event is given up as `failed`. The URL passes the address guard at every attempt
/// and the connection is pinned to the address checked, with redirects refused.
public struct NotificationSender: Service {
    let database: Database
    let store: NotificationStore
    let addressGuard: OutboundAddressGuard
    let client: HTTPClient
    let pinned: PinnedClients
    let settings: NotificationSenderSettings
    let observer: (any NotificationObserver)?
    /// The tenant's Slack incoming-webhook URL, for events on the `slack` channel (Interventions owns it).
    let slackWebhook: @Sendable (TenantTransaction) async throws -> String?
    let logger: Logger

    public init(
        database: Database, store: NotificationStore, addressGuard: OutboundAddressGuard, client: HTTPClient,
        pinned: PinnedClients, settings: NotificationSenderSettings, observer: (any NotificationObserver)?,
        slackWebhook: @escaping @Sendable (TenantTransaction) async throws -> String?, logger: Logger
    ) {
        self.slackWebhook = slackWebhook
        self.database = database
        self.store = store
        self.addressGuard = addressGuard
        self.client = client
        self.pinned = pinned
        self.settings = settings
        self.observer = observer
        self.logger = logger
    }

    struct DueEvent: Sendable {
        let tenantID: TenantID
        let eventID: UUID
        let type: String
        let payload: String
        let attempt: Int
        /// A secret sealed beside the payload (an invitation token), added to the body that is sent.
        let sealedSecret: ByteBuffer?
        /// `url` (the tenant's signed notification URL) or `slack` (its interventions' incoming webhook).
        let channel: String
    }

    public func run() async throws {
        let sending = TenantCounts()
        await cancelWhenGracefulShutdown {
            await withDiscardingTaskGroup { group in
                while !Task.isCancelled {
                    var full = false
                    do {
                        let room = settings.batch - sending.total
                        if room > 0 {
                            // A tenant with attempts still out gets no more until they end: a receiver that
                            // is slow to answer holds back only its own tenant's events.
                            let due = try await claimDue(limit: room, excluding: sending.holders)
                            for event in due {
                                sending.add(event.tenantID)
                                group.addTask {
                                    await self.attempt(event)
                                    sending.remove(event.tenantID)
                                }
                            }
                            full = due.count == room
                        }
                    } catch {
                        if Task.isCancelled { break }
                        logger.warning("sending notifications failed", metadata: ["error": "\(error)"])
                    }
                    if !full { try? await Pause.for(settings.pollInterval) }
                }
            }
        }
    }

    /// Claims the due events and attempts each once, all of them before it returns; answers how many
    /// were claimed.
    @discardableResult
    public func sendDue() async throws -> Int {
        let due = try await claimDue(limit: settings.batch, excluding: [])
        await withTaskGroup(of: Void.self) { group in
            for event in due { group.addTask { await self.attempt(event) } }
        }
        return due.count
    }

    /// Claims up to `limit` due events with a lease, at most `perTenant` of any one tenant and none of
    /// `excluding`'s, oldest first.
    func claimDue(limit: Int, excluding: [TenantID]) async throws -> [DueEvent] {
        let lease = Int(clamping: settings.timeout.components.seconds * 3 + 5)
        let busy = excluding.map(\.rawValue)
        return try await database.transaction(.maintenance) { connection -> [DueEvent] in
            let rows = try await connection.statement(
                """
                UPDATE notification_events e
                SET attempts = e.attempts + 1, next_attempt_at = now() + make_interval(secs => \(lease)::integer)
                FROM (SELECT n.tenant_id, n.event_id FROM notification_events n
                      WHERE (n.tenant_id, n.event_id) IN (
                          SELECT tenant_id, event_id FROM (
                              SELECT tenant_id, event_id, next_attempt_at,
                                     row_number() OVER (PARTITION BY tenant_id ORDER BY next_attempt_at) AS turn
                              FROM notification_events
                              WHERE status = 'pending' AND next_attempt_at <= now()
                                AND tenant_id <> ALL(\(busy)::uuid[])) AS ranked
                          WHERE turn <= \(settings.perTenant)::integer
                          ORDER BY next_attempt_at LIMIT \(limit)::integer)
                        AND n.status = 'pending'
                      FOR UPDATE SKIP LOCKED) AS c
                WHERE e.tenant_id = c.tenant_id AND e.event_id = c.event_id
                RETURNING e.tenant_id, e.event_id, e.type, e.payload::text, e.attempts, e.sealed_secret, e.channel
                """, logger: database.logger)
            var due: [DueEvent] = []
            for try await row in rows.decode((UUID, UUID, String, String, Int32, ByteBuffer?, String).self) {
                due.append(
                    DueEvent(
                        tenantID: TenantID(row.0), eventID: row.1, type: row.2, payload: row.3, attempt: Int(row.4),
                        sealedSecret: row.5, channel: row.6))
            }
            return due
        }
    }

    /// One attempt of one event, logged with its outcome.
    func attempt(_ event: DueEvent) async {
        let started = ContinuousClock.now
        var status: Int?
        var failure: String?
        var refused = false
        var url = ""
        do {
            let slack = event.channel == "slack"
            guard let target = try await target(of: event) else {
                try await finish(
                    event, url: "", status: nil,
                    error: slack
                        ? "No Slack webhook is set for interventions."
                        : "Notifications are turned off for this tenant.",
                    duration: .zero, becomes: "failed")
                return
            }
            // The log names a Slack webhook without its URL, which is a secret.
            url = slack ? "slack-incoming-webhook" : target.url
            status = try await post(event, to: target.url, secret: target.secret)
        } catch let error as AddressRefused {
            failure = "The URL was refused: \(error.reason.replacingOccurrences(of: "base URL", with: "URL"))."
            refused = true
        } catch is DeadlineExceeded {
            failure = "No whole answer within \(settings.timeout)."
        } catch let error as HTTPClientError {
            failure = error == .deadlineExceeded || error == .readTimeout ? "No answer in time." : "\(error)"
        } catch {
            failure = "\(error)"
        }
        let delivered = status.map { (200...299).contains($0) } ?? false
        if !delivered, failure == nil, let status { failure = "The receiver answered HTTP \(status)." }
        let giveUp = !delivered && event.attempt >= settings.maxAttempts
        do {
            try await finish(
                event, url: url, status: status, error: delivered ? nil : failure, duration: .now - started,
                becomes: delivered ? "delivered" : giveUp ? "failed" : "pending")
            observer?.attempt(outcome: delivered ? "delivered" : refused ? "refused" : giveUp ? "failed" : "retrying")
        } catch {
            logger.warning(
                "a notification attempt was not recorded; it is sent again after its lease",
                metadata: ["event_id": "\(event.eventID)", "error": "\(error)"])
        }
    }

    /// Where the event goes: the tenant's notification URL and its signing secret, or the Slack webhook
    /// (unsigned: Slack's incoming webhooks take the URL itself as the credential).
    private func target(of event: DueEvent) async throws -> (url: String, secret: String?)? {
        try await database.withTenant(event.tenantID) { transaction in
            if event.channel == "slack" {
                return try await slackWebhook(transaction).map { ($0, nil) }
            }
            return try await store.target(in: transaction).map { ($0.url, $0.secret) }
        }
    }

    /// Posts the event, signed when it has a secret; answers the receiver's status.
    private func post(_ event: DueEvent, to url: String, secret: String?) async throws -> Int {
        guard let parsed = URL(string: url), let host = parsed.host else {
            throw AddressRefused(reason: "the URL has no host")
        }
        var chosen = client
        // Held until this post has been answered: an evicted pin's client stays open for it.
        var lease: PinnedClients.Lease?
        defer { withExtendedLifetime(lease) {} }
        if let address = try await addressGuard.pin(host: host) {
            lease = pinned.client(host: host, address: address)
            chosen = lease?.client ?? client
        }
        let payload = try store.payload(
            event.payload, sealedSecret: event.sealedSecret, tenantID: event.tenantID, eventID: event.eventID)
        let body = Array(payload.utf8)
        var request = HTTPClientRequest(url: url)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        request.headers.add(name: "User-Agent", value: "ControlPlane-Notifications/1")
        if let secret {
            guard let key = NotificationSignature.key(secret) else { throw AddressRefused(reason: "no signing key") }
            let id = event.eventID.uuidString.lowercased()
            let timestamp = Int(Date().timeIntervalSince1970)
            request.headers.add(name: "webhook-id", value: id)
            request.headers.add(name: "webhook-timestamp", value: "\(timestamp)")
            request.headers.add(
                name: "webhook-signature",
                value: NotificationSignature.header(id: id, timestamp: timestamp, body: body, key: key))
        }
        request.body = .bytes(ByteBuffer(bytes: body))
        let timeout = settings.timeout
        // One deadline for the whole exchange, the answer's body included; the body is read (bounded, then
        // dropped) so the connection can be used again.
        return try await withDeadline(.now + timeout) { [chosen, request] in
            let response = try await chosen.execute(
                request, timeout: .seconds(Int64(max(1, timeout.components.seconds))))
            do {
                var body = response.body.makeAsyncIterator()
                var read = 0
                while let chunk = try await body.next(), read < 64 * 1024 { read += chunk.readableBytes }
            } catch is CancellationError {
                throw CancellationError()
            } catch {}
            return Int(response.status.code)
        }
    }

    /// Logs the attempt and moves the event on to `becomes`: `delivered`, `pending` (retried after its
    /// pause) or `failed` (given up).
    private func finish(
        _ event: DueEvent, url: String, status: Int?, error: String?, duration: Duration, becomes outcome: String
    ) async throws {
        let milliseconds = Int32(
            clamping: duration.components.seconds * 1000 + duration.components.attoseconds / 1_000_000_000_000_000)
        let next = settings.backoff(after: event.attempt)
        let statusCode = status.map { Int32(clamping: $0) }
        let reason = error.map { String($0.prefix(500)) }
        try await database.withTenant(event.tenantID) { transaction in
            try await transaction.query(
                """
                INSERT INTO notification_attempts (tenant_id, event_id, attempt, url, status_code, error, duration_ms)
                VALUES (\(event.tenantID.rawValue), \(event.eventID), \(Int32(clamping: event.attempt)), \(url),
                        \(statusCode), \(reason), \(milliseconds))
                ON CONFLICT DO NOTHING
                """)
            try await transaction.query(
                """
                UPDATE notification_events
                SET status = \(outcome), last_status = \(statusCode), last_error = \(reason),
                    delivered_at = CASE WHEN \(outcome) = 'delivered' THEN now() END,
                    sealed_secret = CASE WHEN \(outcome) = 'pending' THEN sealed_secret END,
                    next_attempt_at = now() + make_interval(secs => \(next))
                WHERE tenant_id = \(event.tenantID.rawValue) AND event_id = \(event.eventID)
                  AND attempts = \(Int32(clamping: event.attempt)) AND status = 'pending'
                """)
        }
    }
}
