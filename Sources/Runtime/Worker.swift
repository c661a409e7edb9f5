import BlockingWork
import Foundation
import Jobs
import Logging
import Persistence
import Providers
import ServiceLifecycle
import Tenancy

#if canImport(Glibc)
    import Glibc
#endif

/// How the runtime works through the queues.
public struct WorkerSettings: Sendable {
    /// Jobs run at once by this process (its slots); 0 runs no worker.
    public var concurrency: Int
    /// How long an attempt holds its job without a heartbeat; a worker that dies loses its jobs to
    /// another after this long. Heartbeats extend it every third of it while a job runs.
    public var visibilityTimeout: Duration
    /// The first retry's delay; each further attempt doubles it (with ±20 % jitter), up to `backoffCap`.
    public var backoffBase: Duration
    public var backoffCap: Duration
    /// How often leases that ran out and stream entries never acknowledged are looked for.
    public var reapInterval: Duration
    /// The slots one tenant's jobs may hold at once (at least 1): the rest stay free for other tenants
    /// however long that tenant's jobs take.
    public var slotsPerTenant: Int
    /// How long one attempt of a job may run; past it the attempt is stopped and retried later.
    public var jobDeadline: Duration

    public init(
        concurrency: Int = 8, visibilityTimeout: Duration = .seconds(60), backoffBase: Duration = .seconds(2),
        backoffCap: Duration = .seconds(300), reapInterval: Duration = .seconds(10), slotsPerTenant: Int? = nil,
        jobDeadline: Duration = .seconds(600)
    ) {
        self.concurrency = concurrency
        self.slotsPerTenant = max(1, slotsPerTenant ?? concurrency / 2)
        self.jobDeadline = jobDeadline
        self.visibilityTimeout = visibilityTimeout
        self.backoffBase = backoffBase
        self.backoffCap = backoffCap
        self.reapInterval = reapInterval
    }

    /// The delay before attempt `attempt + 1`.
    func backoff(after attempt: Int) -> Duration {
        Backoff(base: backoffBase, cap: backoffCap).delay(after: attempt)
    }
}

/// What the worker reports as it works, for metrics.
public protocol WorkerObserver: Sendable {
    func jobFinished(
        tenantID: TenantID, pipeline: Pipeline, status: JobStatus?, queueWait: Duration, duration: Duration)
}

/// The shared runtime: `concurrency` slots take turns across tenants (`JobQueue.nextTenant`), claim each
/// job in Postgres with a lease before acknowledging it on Redis, run its pipeline with a heartbeat, and
/// finish it (succeeded, failed, retried with backoff through the relay, or dead after its attempts). A
/// reaper puts back jobs whose worker died. On graceful shutdown the slots take no new job and the
/// running ones finish.
public final class Worker: Service, Sendable {
    let queue: JobQueue
    let jobs = JobStore()
    let runner: PipelineRunner
    let database: Database
    let settings: WorkerSettings
    let observer: (any WorkerObserver)?
    let logger: Logger
    /// This process's consumer name in the streams' group.
    let consumer: String
    /// The slots each tenant's jobs hold now.
    let running = TenantCounts()

    public init(
        queue: JobQueue, runner: PipelineRunner, database: Database, settings: WorkerSettings,
        observer: (any WorkerObserver)? = nil, logger: Logger
    ) {
        self.queue = queue
        self.runner = runner
        self.database = database
        self.settings = settings
        self.observer = observer
        self.logger = logger
        // `gethostname` only reads the kernel's name (no I/O); Foundation's `hostName` would look the name up
        // in DNS, which can wait for seconds, and this runs on the cooperative executor.
        var name = [CChar](repeating: 0, count: 256)
        let host =
            gethostname(&name, name.count - 1) == 0
            ? String(decoding: name.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self) : "worker"
        consumer = "\(host)-\(ProcessInfo.processInfo.processIdentifier)-\(UUID().uuidString.prefix(8))"
    }

    public func run() async throws {
        guard settings.concurrency > 0 else { return }
        logger.info("worker started", metadata: ["slots": "\(settings.concurrency)", "consumer": "\(consumer)"])
        await withDiscardingTaskGroup { group in
            for _ in 0..<settings.concurrency { group.addTask { await self.slot() } }
            group.addTask { await self.reaper() }
        }
        logger.info("worker drained")
    }

    private func slot() async {
        var idle = Duration.milliseconds(5)
        while !Task.isShuttingDownGracefully && !Task.isCancelled {
            do {
                guard let tenant = try await queue.nextTenant() else {
                    await sleepUnlessShuttingDown(idle)
                    idle = min(idle * 2, .milliseconds(200))
                    continue
                }
                // A tenant at its share of the slots waits for one of its own jobs to end.
                guard running.take(tenant, limit: settings.slotsPerTenant) else {
                    await sleepUnlessShuttingDown(idle)
                    idle = min(idle * 2, .milliseconds(200))
                    continue
                }
                defer { running.remove(tenant) }
                idle = .milliseconds(5)
                guard let entry = try await queue.read(tenant, consumer: consumer) else { continue }
                await process(tenant, entry)
            } catch {
                logger.warning("worker slot could not reach the queue", metadata: ["error": "\(error)"])
                await sleepUnlessShuttingDown(.seconds(1))
            }
        }
    }

    /// Claims, acknowledges, runs and finishes one entry's job. A claim that fails leaves the entry
    /// pending, so the reaper hands it out again after the visibility timeout.
    func process(_ tenant: TenantID, _ entry: StreamEntry) async {
        do {
            let claimed = try await jobs.claim(
                QueuedJob(tenantID: tenant, jobID: entry.jobID), lease: settings.visibilityTimeout, database: database)
            // The lease in Postgres holds the job from here on; the entry's work is done.
            try? await queue.acknowledge(tenant, entry: entry.id)
            guard let claimed else {
                logger.debug(
                    "entry's job not claimable (finished, running elsewhere or not due)",
                    metadata: ["job_id": "\(entry.jobID)"])
                return
            }
            logger.debug("job claimed", metadata: ["job_id": "\(entry.jobID)", "attempt": "\(claimed.attempt)"])
            let started = ContinuousClock.now
            let wait = Duration.seconds(max(0, Date().timeIntervalSince(claimed.createdAt)))
            let outcome: JobOutcome
            do {
                outcome = try await withHeartbeat(claimed) {
                    try await withDeadline(.now + self.settings.jobDeadline) {
                        try await self.runner.run(claimed, backoff: self.settings.backoff(after: claimed.attempt))
                    }
                }
            } catch is DeadlineExceeded {
                outcome = .retry(
                    "the attempt ran past the job deadline (\(settings.jobDeadline))",
                    backoff: settings.backoff(after: claimed.attempt))
            } catch {
                outcome = .retry("\(error)", backoff: settings.backoff(after: claimed.attempt))
            }
            let status = try await jobs.finish(claimed, outcome, database: database)
            if status == .dead {
                logger.warning(
                    "job dead-lettered",
                    metadata: ["job_id": "\(claimed.jobID)", "tenant_id": "\(tenant)", "outcome": "\(outcome)"])
            }
            observer?.jobFinished(
                tenantID: tenant, pipeline: claimed.pipeline, status: status, queueWait: wait,
                duration: ContinuousClock.now - started)
        } catch {
            logger.warning("job not processed", metadata: ["job_id": "\(entry.jobID)", "error": "\(error)"])
        }
    }

    /// Runs `body` while extending the job's lease every third of the visibility timeout.
    private func withHeartbeat<T: Sendable>(_ job: ClaimedJob, _ body: @escaping @Sendable () async throws -> T)
        async throws -> T
    {
        try await withThrowingTaskGroup(of: T?.self) { group in
            group.addTask { try await body() }
            group.addTask {
                while !Task.isCancelled {
                    try await Pause.for(self.settings.visibilityTimeout / 3)
                    _ = try? await self.jobs.extend(
                        job, lease: self.settings.visibilityTimeout, database: self.database)
                }
                return nil
            }
            defer { group.cancelAll() }
            while let result = try await group.next() {
                if let value = result { return value }
            }
            throw CancellationError()
        }
    }

    /// Puts back jobs whose lease ran out, and takes over stream entries read but never acknowledged.
    private func reaper() async {
        await Periodic.run(
            every: settings.reapInterval, start: .afterOneInterval, logger: logger, failure: "reaper failed; retrying"
        ) { [self] in
            let released = try await jobs.releaseExpired(database: database)
            if released > 0 {
                logger.info("jobs taken over after their lease ran out", metadata: ["jobs": "\(released)"])
            }
            for tenant in try await queue.tenantsWithStreams() {
                for entry in try await queue.reclaim(
                    tenant, consumer: consumer, minimumIdle: settings.visibilityTimeout)
                {
                    await process(tenant, entry)
                }
            }
        }
    }
}
