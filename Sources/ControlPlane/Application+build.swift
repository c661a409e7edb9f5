import AsyncHTTPClient
import Auth
import Billing
import BlockingWork
import Edge
import Foundation
import Gateway
import Hummingbird
import Interventions
import Jobs
import Logging
import Notifications
import Observability
import OpenAPIHummingbird
import Persistence
import Providers
import RedisClient
import Runtime
import ServiceLifecycle
import Webhooks

/// Builds the API server from a configuration. Postgres, the invalidation listener, the usage recorder,
/// the hashing and Redis thread pools and housekeeping run as services of the application, so the HTTP
/// server starts after them and stops first. Before it answers API calls, the database role is checked
/// (no superuser, no BYPASSRLS, no table owner) and the signing keys are loaded (`StartupChecks`, which
/// waits for a database that is away rather than exiting).
public func buildApplication(_ configuration: Configuration, logger: Logger, withWorker: Bool = false) throws
    -> some ApplicationProtocol
{
    let parts = try Composition(configuration, logger: logger)
    let database = parts.database
    let credentials = CredentialStateCache(ttl: configuration.auth.credentialCacheTTL)
    let usage = KeyUsageRecorder(database: database, logger: logger)
    let authenticator = Authenticator(
        codec: parts.codec, keyring: parts.keyring, database: database, tokens: VerifiedTokenCache(),
        credentials: credentials, usage: usage, clock: configuration.clock)
    let argon2 = PasswordHasher.Parameters(
        memoryKiB: configuration.auth.argon2MemoryKiB, iterations: configuration.auth.argon2Iterations)
    let hasher = PasswordHasher(
        parameters: argon2, threads: configuration.auth.argon2Threads, queueDepth: configuration.auth.argon2QueueDepth)
    let keyring = parts.keyring
    let listener = InvalidationListener(
        endpoint: try DatabaseURL.endpoint(configuration.database.listenerURL), cache: credentials, logger: logger,
        onSigningKeysChanged: { try? await keyring.load(generateIfEmpty: false) })
    let metrics = HTTPMetrics()
    let lag = ExecutorLagMonitor()
    ProcessMetrics.register(on: metrics, database: database, lag: lag, cache: credentials)
    let spendMetrics = SpendMetrics(
        registry: metrics.registry, models: ModelLabels(perTenant: configuration.http.metricsModelsPerTenant))
    let errors = ErrorMappingMiddleware(domainProblem: { APIError(domain: $0) }, logger: logger)
    let startup = StartupGate()
    let runtime = try RuntimeParts(
        configuration, parts: parts, spend: spendMetrics, metricsRegistry: metrics.registry, logger: logger)
    let redis = runtime.redis
    let paging = Paging(sealer: CursorSealer(box: parts.box), database: database)
    let spend = SpendControl(database: database)
    let idempotency = IdempotentCreation(store: IdempotencyStore(box: parts.box))
    let ingest = WebhookIngest(
        box: parts.box, database: database, queue: runtime.queue, marker: runtime.marker, depths: QueueDepths(),
        maxAttempts: configuration.jobs.maxAttempts, maxDepth: configuration.jobs.maxDepth, logger: logger)

    let endpoints = WebhookEndpointStore(box: parts.box)
    let membership = Membership(database: database, credentials: credentials)
    let tenantAdministration = TenantAdministration(database: database, credentials: credentials)
    let handler = APIHandler(
        system: SystemHandler(database: database, redis: redis, keyring: keyring, metrics: metrics, startup: startup),
        accounts: accountsHandler(
            configuration: configuration, database: database, parts: parts, hasher: hasher, argon2: argon2,
            idempotency: idempotency, credentials: credentials, metrics: metrics),
        tenant: TenantHandler(database: database, paging: paging, administration: tenantAdministration),
        members: MembersHandler(
            database: database, paging: paging, idempotency: idempotency, membership: membership,
            issuance: InvitationIssuance(
                database: database, membership: membership, lifetime: configuration.auth.invitationLifetime,
                announce: InvitationAnnouncement.through(runtime.notifications))),
        keys: KeysHandler(
            database: database, paging: paging, issuer: parts.issuer, idempotency: idempotency,
            issuance: KeyIssuance(
                database: database, credentials: credentials, defaultLifetime: configuration.auth.defaultKeyLifetime,
                maxLifetime: configuration.auth.maxKeyLifetime)),
        admin: AdminHandler(database: database, paging: paging, administration: tenantAdministration),
        billing: BillingHandler(database: database, spend: spend),
        adminBilling: AdminBillingHandler(database: database, spend: spend),
        adminHealth: AdminHealthHandler(
            database: database, redis: redis, credentials: credentials, providers: runtime.registry, lag: lag),
        llm: LLMHandler(gateway: runtime.gateway, callsPerTenant: configuration.gateway.callsPerTenant),
        policy: PolicyHandler(
            administration: PolicyAdministration(
                database: database, credentials: runtime.credentials, registry: runtime.registry)),
        webhooks: WebhooksHandler(
            database: database, paging: paging, idempotency: idempotency, endpoints: endpoints,
            administration: EndpointAdministration(database: database, endpoints: endpoints)),
        hooks: HooksHandler(
            ingest: ingest, maxBodyBytes: configuration.http.webhookMaxBodyBytes,
            metrics: WebhookMetrics(registry: metrics.registry)),
        deliveries: DeliveriesHandler(database: database, paging: paging, ingest: ingest),
        jobs: JobsHandler(
            database: database, paging: paging,
            retrying: JobRetry(database: database, queue: runtime.queue, marker: runtime.marker)),
        identities: IdentitiesHandler(paging: paging, directory: IdentityDirectory(database: database)),
        notifications: NotificationsHandler(
            administration: NotificationAdministration(
                database: database, store: runtime.notifications, addressGuard: runtime.registry.addressGuard)),
        interventions: InterventionsHandler(
            database: database, store: runtime.interventions, paging: paging,
            administration: InterventionAdministration(
                database: database, store: runtime.interventions, addressGuard: runtime.registry.addressGuard,
                clock: configuration.clock),
            clock: configuration.clock, observer: InterventionMetrics(registry: metrics.registry)))

    // The declared routes, read from a router the handlers are registered on for that purpose only:
    // Hummingbird applies a middleware to the routes added after it, so the edge goes in first below.
    let probe = Router(context: AppRequestContext.self)
    try handler.registerHandlers(on: probe, serverURL: URL(string: "/")!)
    let routes = DeclaredRoutes(probe.routes.map { ($0.path.description, $0.method.rawValue) })

    let router = Router(context: AppRequestContext.self)
    router.middlewares.add(
        try EdgeMiddleware(
            settings: configuration.http, knownEndpoints: ingest.known, routes: routes, metrics: metrics,
            domainProblem: { APIError(domain: $0) }, logger: logger))
    try handler.registerHandlers(
        on: router, serverURL: URL(string: "/")!,
        // Compact JSON (keys still sorted, so answers are stable; `/` written as it is, not `\/`) and dates
        // written without ICU.
        configuration: .init(
            dateTranscoder: InternetDateTranscoder(), jsonEncodingOptions: [.sortedKeys, .withoutEscapingSlashes]),
        middlewares: [
            errors,
            StartupGateMiddleware(gate: startup, wait: configuration.database.statementTimeout),
            EventStreamAcceptMiddleware(),
            OptionalBodyMiddleware(),
            RedirectLocationMiddleware(),
            AuthenticationMiddleware(
                authenticator: authenticator, limiter: RateLimiter(database: database), errors: errors,
                metrics: spendMetrics),
        ])
    registerConsole(on: router, assets: ConsoleAssets(directory: configuration.http.consoleDirectory, logger: logger))

    let app = Application(
        router: router,
        server: TimedHTTP1Channel.builder(
            idle: configuration.http.idleTimeout, header: configuration.http.headerTimeout,
            body: configuration.http.bodyTimeout),
        configuration: .init(
            address: .hostname(configuration.http.host, port: configuration.http.port), serverName: nil),
        services: [
            parts.pool, lag, listener, usage, hasher,
            StartupChecks(
                gate: startup, retryInterval: .milliseconds(250), logger: logger,
                checks: {
                    try await DatabaseRoleCheck.verify(database)
                    try await keyring.load(generateIfEmpty: true)
                }),
            Housekeeping(
                database: database, budget: runtime.budget, prices: runtime.prices,
                interval: configuration.process.housekeepingInterval, logger: logger),
            TenantGauges(
                database: database, registry: metrics.registry, interval: configuration.process.pendingJobsInterval,
                logger: logger),
        ] + runtime.services
            + (withWorker
                ? [
                    runtime.worker(
                        configuration, database: database, observer: WorkerMetrics(registry: metrics.registry),
                        logger: logger)
                ]
                    + runtime.backgroundServices(
                        configuration, database: database, registry: metrics.registry, logger: logger) : []),
        logger: logger)
    return app
}
