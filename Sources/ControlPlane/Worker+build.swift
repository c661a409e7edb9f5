import BlockingWork
import Edge
import Logging
import Observability
import ServiceLifecycle

/// Builds the runtime as a process of its own (`controlplane worker`): the Postgres pool, Redis, the
/// LLM gateway, the worker, the relay, housekeeping, retention and, on `CP_WORKER_HTTP_PORT`, `/healthz`, `/readyz`
/// and `/metrics`, in one service group that drains on SIGTERM and SIGINT (running jobs finish; no new
/// job starts; the small HTTP server stops last, so probes and scrapes see the drain).
public func buildWorker(_ configuration: Configuration, logger: Logger) throws -> ServiceGroup {
    let parts = try Composition(configuration, logger: logger)
    let metrics = HTTPMetrics()
    let lag = ExecutorLagMonitor()
    ProcessMetrics.register(on: metrics, database: parts.database, lag: lag)
    let runtime = try RuntimeParts(
        configuration, parts: parts,
        spend: SpendMetrics(
            registry: metrics.registry, models: ModelLabels(perTenant: configuration.http.metricsModelsPerTenant)),
        metricsRegistry: metrics.registry,
        logger: logger)
    let worker = runtime.worker(
        configuration, database: parts.database, observer: WorkerMetrics(registry: metrics.registry), logger: logger)
    let ops: [any Service] =
        configuration.http.workerPort == 0
        ? []
        : [
            WorkerOpsServer.build(
                configuration, metrics: metrics,
                readiness: ReadinessProbe(database: parts.database, redis: runtime.redis), logger: logger)
        ]
    // A service group stops its services in reverse order: the HTTP server after the worker.
    let services: [any Service] =
        [parts.pool, lag] + ops
        + runtime.services + [
            Housekeeping(
                database: parts.database, budget: runtime.budget, prices: runtime.prices,
                interval: configuration.process.housekeepingInterval, logger: logger),
            worker,
        ]
        + runtime.backgroundServices(
            configuration, database: parts.database, registry: metrics.registry, logger: logger)
    var group = ServiceGroupConfiguration(
        services: services.map { .init(service: $0) }, gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)
    // Running jobs get this long to finish; then what still runs is cancelled (its jobs are taken over
    // after the visibility timeout).
    group.maximumGracefulShutdownDuration = configuration.process.shutdownGrace
    // If that cancellation has not ended every service 10 s later, the process aborts rather than hang.
    group.maximumCancellationDuration = .seconds(10)
    return ServiceGroup(configuration: group)
}
