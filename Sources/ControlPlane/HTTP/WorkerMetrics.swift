import Prometheus
import Runtime
import Tenancy
import Webhooks

/// Runtime metrics in the application's Prometheus registry: jobs by pipeline and outcome, and the queue
/// wait and run time of jobs by pipeline.
struct WorkerMetrics: WorkerObserver {
    let registry: PrometheusCollectorRegistry
    private static let buckets: [Duration] = [
        .milliseconds(10), .milliseconds(50), .milliseconds(100), .milliseconds(250), .milliseconds(500), .seconds(1),
        .seconds(2.5), .seconds(5), .seconds(10), .seconds(30), .seconds(60), .seconds(300),
    ]

    func jobFinished(
        tenantID: TenantID, pipeline: Pipeline, status: JobStatus?, queueWait: Duration, duration: Duration
    ) {
        registry.makeCounter(
            name: "controlplane_jobs_total",
            labels: [("pipeline", pipeline.rawValue), ("outcome", status?.rawValue ?? "lease_lost")]
        ).increment()
        registry.makeDurationHistogram(
            name: "controlplane_job_queue_wait_seconds", labels: [("pipeline", pipeline.rawValue)],
            buckets: Self.buckets
        ).record(queueWait)
        registry.makeDurationHistogram(
            name: "controlplane_job_duration_seconds", labels: [("pipeline", pipeline.rawValue)],
            buckets: Self.buckets
        ).record(duration)
    }
}
