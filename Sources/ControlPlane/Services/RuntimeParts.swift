import AsyncHTTPClient
import Billing
import Edge
import Gateway
import Interventions
import Jobs
import Logging
import Notifications
import Observability
import Persistence
import Prometheus
import Providers
import RedisClient
import Runtime
import ServiceLifecycle

/// What the API server and the worker share beyond the database: Redis, the LLM gateway with its
/// providers and budget, the job queues, and the services that keep them (relay, enqueue notes,
/// provider clients). Built once per process from the configuration.
struct RuntimeParts: Sendable {
    let redis: RedisClient
    let budget: TokenBudget
    let prices: PriceTable
    let registry: ProviderRegistry
    let credentials: CredentialRepository
    let gateway: LLMGateway
    let queue: JobQueue
    let marker: EnqueueMarker
    let relay: QueueRelay
    let notifications: NotificationStore
    let interventions: InterventionStore
    private let providerClient: HTTPClient

    init(
        _ configuration: Configuration, parts: Composition, spend: SpendMetrics,
        metricsRegistry: PrometheusCollectorRegistry, logger: Logger
    ) throws {
        let database = parts.database
        redis = try RedisClient(url: configuration.redis.url, threads: configuration.redis.threads)
        budget = TokenBudget(database: database, reservationLifetime: configuration.billing.reservationLifetime)
        providerClient = ProviderTransport.makeClient()
        var providerDefaults: [ProviderKind: ProviderRegistry.Default] = [:]
        for (name, value) in configuration.gateway.providerDefaults {
            if let kind = ProviderKind(rawValue: name) {
                providerDefaults[kind] = .init(baseURL: value.baseURL, apiKey: value.apiKey)
            }
        }
        registry = ProviderRegistry(
            defaults: providerDefaults, client: providerClient,
            addressGuard: OutboundAddressGuard(allowlist: configuration.gateway.providerURLAllowlist),
            breakerThreshold: configuration.gateway.breakerThreshold,
            breakerCooldown: configuration.gateway.breakerCooldown,
            streamBufferBytes: configuration.gateway.streamBufferBytes)
        prices = PriceTable()
        credentials = CredentialRepository(box: parts.box)
        gateway = LLMGateway(
            database: database, budget: budget, registry: registry, prices: prices,
            cache: ResponseCache(redis: redis, bytesPerTenant: configuration.gateway.cacheBytesPerTenant),
            retry: RetryPolicy(attempts: configuration.gateway.providerAttempts), credentials: credentials,
            observer: GatewayMetrics(spend: spend, registry: metricsRegistry))
        notifications = NotificationStore(box: parts.box)
        interventions = InterventionStore(box: parts.box)
        queue = JobQueue(redis: redis, keys: QueueKeys(prefix: configuration.jobs.queuePrefix))
        marker = EnqueueMarker(database: database)
        relay = QueueRelay(
            database: database, queue: queue, marker: marker, interval: configuration.jobs.relayInterval,
            minimumAge: configuration.jobs.relayMinimumAge, rebuilds: configuration.jobs.rebuildsAfterLoss,
            lostAfter: configuration.jobs.lostAfter, logger: logger)
    }

    /// The runtime's worker, per `CP_WORKER_*`.
    func worker(_ configuration: Configuration, database: Database, observer: any WorkerObserver, logger: Logger)
        -> Worker
    {
        Worker(
            queue: queue, runner: PipelineRunner(database: database, gateway: gateway, logger: logger),
            database: database, settings: configuration.runtime.worker, observer: observer, logger: logger)
    }

    /// The sender of the tenants' notifications, per `CP_NOTIFY_*`; run where the worker runs.
    func notificationSender(
        _ configuration: Configuration, database: Database, observer: any NotificationObserver, logger: Logger
    ) -> NotificationSender {
        NotificationSender(
            database: database, store: notifications, addressGuard: registry.addressGuard, client: providerClient,
            pinned: registry.pinned, settings: configuration.notifications, observer: observer,
            slackWebhook: { [interventions] in try await interventions.slackURL(in: $0) }, logger: logger)
    }

    /// The intervention scheduler, per `CP_INTERVENTION_*`; run where the worker runs.
    func interventionScheduler(
        _ configuration: Configuration, database: Database, observer: any InterventionObserver, logger: Logger
    ) -> InterventionScheduler {
        InterventionScheduler(
            database: database, gateway: gateway, store: interventions, clock: configuration.clock,
            settings: configuration.interventions, observer: observer, logger: logger)
    }

    /// What runs where the worker runs, beside the worker itself: retention, the notification sender and
    /// the intervention scheduler.
    func backgroundServices(
        _ configuration: Configuration, database: Database, registry metrics: PrometheusCollectorRegistry,
        logger: Logger
    ) -> [any Service] {
        [
            RetentionService(
                pruner: RetentionPruner(database: database, policy: configuration.runtime.retentionPolicy),
                interval: configuration.runtime.retentionInterval, registry: metrics, logger: logger),
            notificationSender(
                configuration, database: database, observer: NotificationMetrics(registry: metrics), logger: logger),
            interventionScheduler(
                configuration, database: database, observer: InterventionMetrics(registry: metrics), logger: logger),
        ]
    }

    /// The services every process runs with these parts (Redis's threads, the providers' clients, the
    /// enqueue notes and the relay).
    var services: [any Service] {
        [redis, ProviderClients(client: providerClient, registry: registry), marker, relay]
    }
}
