import Jobs
import Persistence
import Prometheus
import Runtime

/// Runtime metrics in the application's Prometheus registry: jobs by pipeline and outcome, the queue
/// wait and run time of each attempt by pipeline, and the processing time of each job that ended (from
/// its creation to its end, retries included) by pipeline; and by tenant (fewer buckets), jobs by outcome
/// and their queue wait.
package struct WorkerMetrics: WorkerObserver {
    package let registry: PrometheusCollectorRegistry

    /// Registers every pipeline and outcome at zero, so rates and alerts have series from the start.
    package init(registry: PrometheusCollectorRegistry) {
        self.registry = registry
        for pipeline in Pipeline.allCases {
            for outcome in JobStatus.allCases.map(\.rawValue) + ["lease_lost"] where outcome != "running" {
                _ = registry.makeCounter(
                    name: "controlplane_jobs_total", labels: [("pipeline", pipeline.rawValue), ("outcome", outcome)])
            }
            let labels = [("pipeline", pipeline.rawValue)]
            _ = registry.makeDurationHistogram(
                name: "controlplane_job_queue_wait_seconds", labels: labels, buckets: Self.buckets)
            _ = registry.makeDurationHistogram(
                name: "controlplane_job_duration_seconds", labels: labels, buckets: Self.buckets)
            _ = registry.makeDurationHistogram(
                name: "controlplane_job_processing_seconds", labels: labels, buckets: Self.processingBuckets)
        }
    }
    private static let buckets: [Duration] = [
        .milliseconds(10), .milliseconds(50), .milliseconds(100), .milliseconds(250), .milliseconds(500), .seconds(1),
        .seconds(2.5), .seconds(5), .seconds(10), .seconds(30), .seconds(60), .seconds(300),
    ]
    private static let tenantBuckets: [Duration] = [
        .milliseconds(100), .seconds(1), .seconds(10), .seconds(60), .seconds(600), .seconds(3600),
    ]
    private static let processingBuckets: [Duration] = [
        .seconds(1), .seconds(5), .seconds(30), .seconds(60), .seconds(300), .seconds(900), .seconds(1800),
        .seconds(3600), .seconds(7200), .seconds(21600),
    ]

    package func jobFinished(
        tenantID: TenantID, pipeline: Pipeline, status: JobStatus?, queueWait: Duration, duration: Duration
    ) {
        registry.makeCounter(
            name: "controlplane_jobs_total",
            labels: [("pipeline", pipeline.rawValue), ("outcome", status?.rawValue ?? "lease_lost")]
        ).increment()
        let tenant = ("tenant", tenantID.description)
        registry.makeCounter(
            name: "controlplane_tenant_jobs_total", labels: [tenant, ("outcome", status?.rawValue ?? "lease_lost")]
        ).increment()
        registry.makeDurationHistogram(
            name: "controlplane_tenant_job_queue_wait_seconds", labels: [tenant], buckets: Self.tenantBuckets
        ).record(queueWait)
        registry.makeDurationHistogram(
            name: "controlplane_job_queue_wait_seconds", labels: [("pipeline", pipeline.rawValue)],
            buckets: Self.buckets
        ).record(queueWait)
        registry.makeDurationHistogram(
            name: "controlplane_job_duration_seconds", labels: [("pipeline", pipeline.rawValue)],
            buckets: Self.buckets
        ).record(duration)
        // A job put back for a retry has not ended; one whose lease was lost is ended by its new holder.
        if let status, status != .queued {
            registry.makeDurationHistogram(
                name: "controlplane_job_processing_seconds", labels: [("pipeline", pipeline.rawValue)],
                buckets: Self.processingBuckets
            ).record(queueWait + duration)
        }
    }
}
