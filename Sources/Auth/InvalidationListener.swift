import Logging
import PostgresNIO
import ServiceLifecycle
import Tenancy

/// Keeps this replica's credential cache honest: it LISTENs on the invalidation channel and drops the
/// entries named by each notification, which is how a revocation reaches every replica within a second.
/// Whenever it (re)connects it drops the whole cache, because notifications sent while it was away are lost.
public struct InvalidationListener: Service {
    let client: PostgresClient
    let cache: CredentialStateCache
    let logger: Logger

    public init(client: PostgresClient, cache: CredentialStateCache, logger: Logger) {
        self.client = client
        self.cache = cache
        self.logger = logger
    }

    public func run() async throws {
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                do {
                    try await client.withConnection { connection in
                        try await connection.listen(on: ApiKeyRepository.invalidationChannel) { notifications in
                            cache.invalidateAll()
                            for try await notification in notifications {
                                cache.apply(notification: notification.payload)
                            }
                        }
                    }
                } catch {
                    if Task.isCancelled { break }
                    logger.warning("invalidation listener lost its connection; reconnecting", metadata: ["error": "\(error)"])
                    cache.invalidateAll()
                }
                try? await Task.sleep(for: .milliseconds(500))
            }
        }
    }
}
