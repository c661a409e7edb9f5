import RedisClient
import Tenancy

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

    /// True when `check` answers within two seconds.
    private static func answers(_ check: @escaping @Sendable () async throws -> Void) async -> Bool {
        await withTaskGroup(of: Bool.self) { group in
            group.addTask { (try? await check()) != nil }
            group.addTask {
                try? await Pause.for(.seconds(2))
                return false
            }
            let first = await group.next() ?? false
            group.cancelAll()
            return first
        }
    }
}
