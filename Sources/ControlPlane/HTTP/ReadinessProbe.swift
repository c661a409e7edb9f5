import Persistence
import RedisClient

/// Whether Postgres and Redis answer within two seconds each: what `/readyz` reports, on the API and on
/// a worker's own port.
struct ReadinessProbe: Sendable {
    let database: Database
    let redis: RedisClient

    /// The components that did not answer (empty: ready).
    func unreachable() async -> [String] {
        async let postgres = Self.answers { try await database.ping() }
        async let redis = Self.answers { try await self.redis.ping() }
        let (postgresUp, redisUp) = await (postgres, redis)
        return [postgresUp ? nil : "postgres", redisUp ? nil : "redis"].compactMap { $0 }
    }

    /// True when `check` answers within two seconds; past them it is left behind, not awaited (a task
    /// group would wait for a call that never ends).
    private static func answers(_ check: @escaping @Sendable () async throws -> Void) async -> Bool {
        (try? await Abandon.within(.seconds(2), check)) != nil
    }
}
