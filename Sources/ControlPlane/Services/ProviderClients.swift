import AsyncHTTPClient
import Gateway
import ServiceLifecycle

/// Owns the providers' HTTP clients for the application's lifetime and shuts them down at the end.
struct ProviderClients: Service {
    let client: HTTPClient
    let registry: ProviderRegistry

    func run() async throws {
        try? await gracefulShutdown()
        await registry.shutdown()
        try await client.shutdown()
    }
}
