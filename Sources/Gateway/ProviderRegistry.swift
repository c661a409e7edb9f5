import AsyncHTTPClient
import Foundation
import Persistence
import Providers
import Synchronization

/// Builds the provider client for one call: the tenant's own credential when it stored one, else the
/// operator's default (`CP_<PROVIDER>_API_KEY` / `CP_<PROVIDER>_BASE_URL`). A tenant's custom base URL
/// (openai_compatible) goes through the address guard and a client pinned to the checked address.
/// Keeps one circuit breaker per tenant, provider and base URL: a tenant whose own choices (a short
/// `timeout_ms`, a bad model) make calls fail opens only its own.
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
    private let breakers = Mutex<[BreakerKey: CircuitBreaker]>([:])
    /// The most breakers held at once.
    let maxBreakers = 20_000
    let breakerThreshold: Int
    let breakerCooldown: Duration

    public init(
        defaults: [ProviderKind: Default], client: HTTPClient, addressGuard: OutboundAddressGuard,
        breakerThreshold: Int = 5, breakerCooldown: Duration = .seconds(30), streamBufferBytes: Int = 64 << 10
    ) {
        self.defaults = defaults
        self.transport = ProviderTransport(client: client, streamBufferBytes: streamBufferBytes)
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

    /// The endpoints this replica has called, each with how many tenants' breakers it holds and how many
    /// of them are open, and the endpoint's state: open when at least two tenants' breakers are open and
    /// they outnumber the closed ones, half-open when one is probing, else closed.
    public func breakerStates() -> [BreakerSummary] {
        let all = breakers.withLock { breakers in breakers.map { ($0.key, $0.value.state) } }
        var summaries: [EndpointKey: BreakerSummary] = [:]
        for (key, state) in all {
            let endpoint = EndpointKey(provider: key.provider, endpoint: key.endpoint)
            var summary =
                summaries[endpoint]
                ?? BreakerSummary(provider: key.provider.rawValue, endpoint: key.endpoint, state: .closed)
            summary.tenants += 1
            switch state {
            case .open: summary.openTenants += 1
            case .halfOpen: summary.probing += 1
            case .closed: break
            }
            summaries[endpoint] = summary
        }
        return summaries.values.map { summary in
            var summary = summary
            let closed = summary.tenants - summary.openTenants - summary.probing
            if summary.openTenants >= 2, summary.openTenants > closed {
                summary.state = .open
            } else if summary.probing > 0 {
                summary.state = .halfOpen
            }
            return summary
        }.sorted { ($0.provider, $0.endpoint) < ($1.provider, $1.endpoint) }
    }

    /// One endpoint's breakers across tenants.
    public struct BreakerSummary: Sendable {
        public let provider: String
        public let endpoint: String
        public var state: CircuitBreaker.State
        public var tenants = 0
        public var openTenants = 0
        var probing = 0
    }

    struct EndpointKey: Hashable {
        let provider: ProviderKind
        let endpoint: String
    }

    struct BreakerKey: Hashable {
        let provider: ProviderKind
        let endpoint: String
        let tenantID: TenantID
    }

    /// The tenant's breaker for `kind` at `endpoint`. Past `maxBreakers`, breakers that have nothing to
    /// remember (closed, no failures) are dropped first, so the map stays bounded however many tenants call.
    public func breaker(_ kind: ProviderKind, endpoint: String, tenantID: TenantID) -> CircuitBreaker {
        let key = BreakerKey(provider: kind, endpoint: endpoint, tenantID: tenantID)
        return breakers.withLock { breakers in
            if let existing = breakers[key] { return existing }
            if breakers.count >= maxBreakers {
                breakers = breakers.filter { !$0.value.isIdle }
                if breakers.count >= maxBreakers, let oldest = breakers.min(by: { $0.value.touched < $1.value.touched })
                {
                    breakers.removeValue(forKey: oldest.key)
                }
            }
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
                    transport = transport.using(pinned.client(host: host, address: address))
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
