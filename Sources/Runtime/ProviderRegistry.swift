import AsyncHTTPClient
import Foundation
import Providers
import Synchronization

/// Builds the provider client for one call: the tenant's own credential when it stored one, else the
/// operator's default (`CP_<PROVIDER>_API_KEY` / `CP_<PROVIDER>_BASE_URL`). A tenant's custom base URL
/// (openai_compatible) goes through the address guard and a client pinned to the checked address.
/// Keeps one circuit breaker per provider and base URL.
public final class ProviderRegistry: Sendable {
    /// The operator's default credential of one provider.
    public struct Default: Sendable, Equatable {
        public var baseURL: String?
        public var apiKey: String?

        public init(baseURL: String?, apiKey: String?) {
            self.baseURL = baseURL
            self.apiKey = apiKey
        }
    }

    /// The public endpoints used when the operator names none.
    public static let publicBaseURLs: [ProviderKind: String] = [
        .openai: "https://api.openai.com/v1",
        .groq: "https://api.groq.com/openai/v1",
        .gemini: "https://generativelanguage.googleapis.com",
        .anthropic: "https://api.anthropic.com",
    ]

    let defaults: [ProviderKind: Default]
    let transport: ProviderTransport
    /// Clients pinned to guarded addresses; notifications to tenants' URLs use them too.
    public let pinned: PinnedClients
    public let addressGuard: OutboundAddressGuard
    private let breakers = Mutex<[String: CircuitBreaker]>([:])
    let breakerThreshold: Int
    let breakerCooldown: Duration

    public init(
        defaults: [ProviderKind: Default], client: HTTPClient, addressGuard: OutboundAddressGuard,
        breakerThreshold: Int = 5, breakerCooldown: Duration = .seconds(30)
    ) {
        self.defaults = defaults
        self.transport = ProviderTransport(client: client)
        self.pinned = PinnedClients()
        self.addressGuard = addressGuard
        self.breakerThreshold = breakerThreshold
        self.breakerCooldown = breakerCooldown
    }

    /// Whether a call to `kind` has a credential (the tenant's or the operator's); `mock` always has.
    public func isConfigured(_ kind: ProviderKind, tenantCredential: CredentialRepository.Credential?) -> Bool {
        switch kind {
        case .mock: return true
        case .openaiCompatible:
            return tenantCredential?.baseURL != nil || defaults[kind]?.baseURL != nil
        default:
            return tenantCredential != nil || !(defaults[kind]?.apiKey ?? "").isEmpty
                || defaults[kind]?.baseURL != nil
        }
    }

    /// The endpoint a call to `kind` goes to, which names its circuit breaker.
    public func endpoint(_ kind: ProviderKind, tenantCredential: CredentialRepository.Credential?) -> String {
        if kind == .openaiCompatible, let own = tenantCredential?.baseURL { return own }
        return defaults[kind]?.baseURL ?? Self.publicBaseURLs[kind] ?? kind.rawValue
    }

    /// Every breaker this replica holds: provider, endpoint and state.
    public func breakerStates() -> [(provider: String, endpoint: String, state: CircuitBreaker.State)] {
        breakers.withLock { breakers in
            breakers.sorted { $0.key < $1.key }.map { key, breaker in
                let parts = key.split(separator: "|", maxSplits: 1).map(String.init)
                return (parts[0], parts.count > 1 ? parts[1] : "", breaker.state)
            }
        }
    }

    public func breaker(_ kind: ProviderKind, endpoint: String) -> CircuitBreaker {
        let key = "\(kind.rawValue)|\(endpoint)"
        return breakers.withLock { breakers in
            if let existing = breakers[key] { return existing }
            let breaker = CircuitBreaker(threshold: breakerThreshold, cooldown: breakerCooldown)
            breakers[key] = breaker
            return breaker
        }
    }

    /// The client for one call to `kind`; throws `ProviderError` (`notConfigured`, `addressRefused`).
    public func provider(_ kind: ProviderKind, tenantCredential: CredentialRepository.Credential?) async throws
        -> any LLMProvider
    {
        guard isConfigured(kind, tenantCredential: tenantCredential) else {
            throw ProviderError(
                .notConfigured, provider: kind, message: "no credential is configured for \(kind.rawValue)")
        }
        let operatorDefault = defaults[kind]
        let apiKey = tenantCredential?.apiKey ?? operatorDefault?.apiKey ?? ""
        let baseURL = endpoint(kind, tenantCredential: tenantCredential)
        var transport = self.transport
        if kind == .openaiCompatible, let own = tenantCredential?.baseURL {
            guard let host = URL(string: own)?.host else {
                throw ProviderError(.addressRefused, provider: kind, message: "the base URL has no host")
            }
            do {
                if let address = try await addressGuard.pin(host: host) {
                    transport = ProviderTransport(client: pinned.client(host: host, address: address))
                }
            } catch let refused as AddressRefused {
                throw ProviderError(.addressRefused, provider: kind, message: refused.reason)
            }
        }
        switch kind {
        case .mock: return MockProvider()
        case .openai, .groq, .openaiCompatible:
            return OpenAIProvider(kind: kind, baseURL: baseURL, apiKey: apiKey, transport: transport)
        case .gemini: return GeminiProvider(baseURL: baseURL, apiKey: apiKey, transport: transport)
        case .anthropic: return AnthropicProvider(baseURL: baseURL, apiKey: apiKey, transport: transport)
        }
    }

    public func shutdown() async {
        await pinned.shutdown()
    }
}
