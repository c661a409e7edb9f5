import Auth
import BlockingWork
import ControlPlaneAPI
import ControlPlaneAPITypes
import Foundation
import Gateway
import Jobs
import Persistence
import RedisClient

/// `GET /v1/admin/health`: each component's state as this replica sees it, for operators.
struct AdminHealthHandler: Sendable {
    let database: Database
    let redis: RedisClient
    let credentials: CredentialStateCache
    let providers: ProviderRegistry
    let lag: ExecutorLagMonitor
    /// A periodic task waking this much later than asked in the last minute makes the executor `late`.
    static let executorLateAfter: Duration = .milliseconds(250)
    /// A job due this long and still not on Redis means the relay is behind.
    static let relayBehindAfter: Double = 60

    typealias Health = Components.Schemas.AdminHealth

    func getAdminHealth(_ input: Operations.GetAdminHealth.Input) async throws -> Operations.GetAdminHealth.Output {
        async let postgres = Self.timed { try await database.ping() }
        async let redisCheck = Self.timed { try await redis.ping() }
        async let counts = try? JobBacklog.read(from: database)
        let (postgresResult, redisResult, jobs) = await (postgres, redisCheck, counts)

        let listener: Health.InvalidationListenerPayload
        if let age = credentials.heartbeatAge {
            listener = .init(
                status: credentials.isTrusted ? .up : .late, heartbeatAgeMs: Self.milliseconds(age))
        } else {
            listener = .init(status: .down)
        }
        let queues: Health.QueuesPayload
        let relay: Health.RelayPayload
        if let jobs {
            queues = .init(
                status: .up, pendingJobs: jobs.pending, runningJobs: jobs.running,
                oldestPendingAgeSeconds: jobs.oldestPendingAge)
            let behind = (jobs.oldestUnsentAge ?? 0) > Self.relayBehindAfter
            relay = .init(
                status: behind ? .behind : .up, unsentJobs: jobs.unsent, oldestUnsentAgeSeconds: jobs.oldestUnsentAge)
        } else {
            queues = .init(status: .down, pendingJobs: 0, runningJobs: 0)
            relay = .init(status: .down, unsentJobs: 0)
        }
        let breakers = providers.breakerStates().map { breaker in
            Health.ProvidersPayloadPayload(
                provider: breaker.provider, endpoint: breaker.endpoint,
                breaker: .init(rawValue: breaker.state.rawValue) ?? .open, openTenants: breaker.openTenants,
                tenants: breaker.tenants)
        }
        let recentLag = lag.recentMaximum
        let executor = Health.ExecutorPayload(
            status: recentLag > Self.executorLateAfter ? .late : .up, lagMs: Self.milliseconds(recentLag))
        let degraded =
            executor.status != .up || postgresResult.status == .down || redisResult.status == .down
            || listener.status != .up
            || queues.status == .down || relay.status != .up || breakers.contains { $0.breaker != .closed }
        return .ok(
            .init(
                body: .json(
                    .init(
                        status: degraded ? .degraded : .ok, checkedAt: Date(), postgres: postgresResult,
                        redis: redisResult, invalidationListener: listener, queues: queues, relay: relay,
                        executor: executor, providers: breakers))))
    }

    /// Whether `check` answered within two seconds, and how long it took.
    private static func timed(_ check: @escaping @Sendable () async throws -> Void) async
        -> Components.Schemas.ComponentHealth
    {
        let started = ContinuousClock.now
        // Past two seconds the check is left behind rather than awaited: a task group would wait for a call
        // that never ends.
        let outcome: Result<Void, any Error>
        do {
            try await Abandon.within(.seconds(2), check)
            outcome = .success(())
        } catch is Abandon.Abandoned {
            outcome = .failure(TimedOut())
        } catch {
            outcome = .failure(error)
        }
        switch outcome {
        case .success:
            return .init(status: .up, latencyMs: milliseconds(ContinuousClock.now - started))
        case .failure(let error):
            return .init(
                status: .down,
                detail: error is TimedOut ? "no answer within 2 s" : "the check failed: \(type(of: error))")
        }
    }

    private struct TimedOut: Error {}

    private static func milliseconds(_ duration: Duration) -> Double {
        // Microsecond precision.
        (duration.seconds * 1_000_000).rounded() / 1000
    }
}
