import BlockingWork
import Crypto
import Foundation
import Jobs
import Logging
import Persistence

/// Why ingest refused a delivery.
public enum IngestRefusal: Error, Sendable, Equatable {
    /// No such active endpoint of an active tenant, or a missing or wrong signature: all alike.
    case signature
    /// A verified body that is not what GitHub sends.
    case malformed(String)
    /// The tenant's queue holds `depth` jobs, at or over the cap.
    case queueFull(depth: Int)
}

/// Receives one GitHub delivery: finds its endpoint, checks the signature over the exact bytes before
/// anything is parsed, decides what the delivery becomes, commits it with its jobs, and only then puts
/// the jobs on the tenant's queue. When Redis cannot take them the delivery is still accepted: the relay
/// sends them later, so an accepted delivery is never lost.
public struct WebhookIngest: Sendable {
    let box: SecretBox
    let database: Database
    let deliveries = DeliveryStore()
    let queue: JobQueue
    let marker: EnqueueMarker
    let depths: QueueDepths
    let maxAttempts: Int
    let maxDepth: Int
    let enqueueTimeout: Duration
    /// Every endpoint a delivery found is noted here (the body budget's sources).
    public let known: KnownEndpoints
    let logger: Logger

    public init(
        box: SecretBox, database: Database, queue: JobQueue, marker: EnqueueMarker, depths: QueueDepths,
        maxAttempts: Int, maxDepth: Int, enqueueTimeout: Duration = .milliseconds(300),
        known: KnownEndpoints = KnownEndpoints(), logger: Logger
    ) {
        self.known = known
        self.box = box
        self.database = database
        self.queue = queue
        self.marker = marker
        self.depths = depths
        self.maxAttempts = maxAttempts
        self.maxDepth = maxDepth
        self.enqueueTimeout = enqueueTimeout
        self.logger = logger
    }

    /// The delivery as recorded (a new one, or the first of the same `X-GitHub-Delivery` on this endpoint).
    public func receive(
        endpoint: String, event: String, githubDelivery: String, signature: String?, body: [UInt8]
    ) async throws -> AcceptedDelivery {
        guard let endpointID = UUID(uuidString: endpoint),
            let route = try await IngestRoute.find(endpointID, box: box, database: database), route.receives
        else {
            // As much work as a real check, so the answer's timing does not tell endpoints apart.
            _ = await WebhookSignature.isValid(header: signature, body: body, secrets: [Self.decoySecret])
            throw IngestRefusal.signature
        }
        known.insert(endpointID, tenant: route.tenantID)
        guard await WebhookSignature.isValid(header: signature, body: body, secrets: route.secrets) else {
            throw IngestRefusal.signature
        }
        let payload: GitHubPayload
        do {
            payload = try await Self.parse(body)
        } catch let error as MalformedPayload {
            throw IngestRefusal.malformed(error.reason)
        }
        let decision = DeliveryDecision.decide(
            event: event, payload: payload, pipelines: route.pipelines, repositories: route.repositories)
        if case .jobs = decision { try await checkDepth(route.tenantID) }

        let accepted = try await deliveries.accept(
            NewDelivery(
                tenantID: route.tenantID, endpointID: endpointID, githubDelivery: githubDelivery, event: event,
                payload: payload, decision: decision, contentType: payload.contentType, body: body),
            maxAttempts: maxAttempts, database: database)
        if !accepted.duplicate { await send(accepted, tenantID: route.tenantID) }
        return accepted
    }

    /// Puts the committed jobs of `accepted` on the tenant's queue and notes them as sent; should Redis not
    /// take them now, they stay committed and the relay sends them.
    func send(_ accepted: AcceptedDelivery, tenantID: TenantID) async {
        guard !accepted.jobIDs.isEmpty else { return }
        let jobs = accepted.jobIDs.map { QueuedJob(tenantID: tenantID, jobID: $0) }
        do {
            depths.record(try await queue.enqueue(jobs, timeout: enqueueTimeout))
            marker.mark(jobs)
        } catch {
            logger.warning(
                "jobs committed but not queued; the relay will send them",
                metadata: ["delivery_id": "\(accepted.deliveryID)", "error": "\(error)"])
        }
    }

    /// Refuses a delivery that would make jobs for a tenant whose queue is at the cap. The depth comes
    /// from this replica's last enqueue, read again from Redis when it is full and a second old; when
    /// Redis cannot say, the delivery is let in (it is durable in Postgres either way).
    func checkDepth(_ tenant: TenantID) async throws {
        guard let known = depths.known(tenant), known.depth >= maxDepth else { return }
        if known.fresh { throw IngestRefusal.queueFull(depth: known.depth) }
        guard let depth = try? await queue.depth(tenant, timeout: enqueueTimeout) else { return }
        depths.record([tenant: depth])
        if depth >= maxDepth { throw IngestRefusal.queueFull(depth: depth) }
    }

    /// The largest body parsed on the cooperative executor; a larger one is parsed on `parsingThreads`.
    public static let parsedInPlaceBytes = 256 << 10
    /// The thread large deliveries are parsed on. A tenant holds its own endpoint's secret, so it can sign
    /// 25 MiB bodies: parsing one takes tens of milliseconds, which on the cooperative executor (as many
    /// threads as cores) every other tenant's requests would wait for. The body budget already bounds
    /// how many a tenant has being read at once, so it bounds how many it queues here.
    static let parsingThreads = BlockingWorkPool(threads: 1)

    static func parse(_ body: [UInt8]) async throws -> GitHubPayload {
        guard body.count > parsedInPlaceBytes else { return try GitHubPayload(body: body) }
        return try await parsingThreads.run { try GitHubPayload(body: body) }
    }

    private static let decoySecret = Array(SymmetricKey(size: .bits256).withUnsafeBytes { Array($0) })
}
