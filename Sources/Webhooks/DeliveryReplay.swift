import Foundation
import Jobs
import Persistence
import PostgresNIO
import Tenancy

/// Why a delivery could not be replayed.
public enum ReplayRefusal: Error, Sendable, Equatable {
    /// The tenant has no such delivery.
    case notFound
    /// The delivery's endpoint was deleted, so nothing says which pipelines it should run.
    case endpointDeleted
    /// Jobs made from the delivery are still queued or running.
    case jobsOpen
    /// As the endpoint is configured now, the delivery makes no jobs; the reason.
    case makesNoJobs(String)
}

extension WebhookIngest {
    /// Runs a received delivery again: its stored body is decided against the endpoint's current pipelines
    /// and allow-list, each pipeline gets a new job, and the delivery settles on the new set, audited as
    /// `caller`'s in the same transaction. The jobs are committed before they are queued,
    /// as at ingest, so the relay sends them should Redis not take them now.
    public func replay(
        _ deliveryID: UUID, tenantID: TenantID, recordedAs caller: AuditLog.Caller
    ) async throws -> AcceptedDelivery {
        let accepted = try await database.withTenant(tenantID) { transaction -> AcceptedDelivery in
            let rows = try await transaction.query(
                """
                SELECT d.event, d.body, d.repository, e.pipelines, e.repositories,
                       EXISTS (SELECT 1 FROM jobs j WHERE j.tenant_id = d.tenant_id AND j.delivery_id = d.delivery_id
                               AND j.status IN ('queued', 'running'))
                FROM webhook_deliveries d
                LEFT JOIN webhook_endpoints e ON e.tenant_id = d.tenant_id AND e.endpoint_id = d.endpoint_id
                WHERE d.tenant_id = \(tenantID.rawValue) AND d.delivery_id = \(deliveryID)
                FOR UPDATE OF d
                """)
            var stored:
                (
                    event: String, body: ByteBuffer, repository: String?, pipelines: [String]?, allowed: [String]?,
                    open: Bool
                )?
            for try await row in rows.decode((String, ByteBuffer, String?, [String]?, [String]?, Bool).self) {
                stored = row
            }
            guard let stored else { throw ReplayRefusal.notFound }
            guard let pipelines = stored.pipelines, let allowed = stored.allowed else {
                throw ReplayRefusal.endpointDeleted
            }
            if stored.open { throw ReplayRefusal.jobsOpen }
            let decision: DeliveryDecision
            do {
                let payload = try GitHubPayload(body: Array(buffer: stored.body))
                decision = DeliveryDecision.decide(
                    event: stored.event, payload: payload, pipelines: pipelines.compactMap(Pipeline.init(rawValue:)),
                    repositories: allowed)
            } catch let error as MalformedPayload {
                throw ReplayRefusal.makesNoJobs(error.reason)
            }
            guard case .jobs(let chosen) = decision else {
                if case .ignored(let reason) = decision { throw ReplayRefusal.makesNoJobs(reason) }
                throw ReplayRefusal.makesNoJobs("The delivery makes no jobs.")
            }
            try await checkDepth(tenantID)
            let jobIDs = chosen.map { _ in UUID() }
            try await transaction.query(
                """
                INSERT INTO jobs (tenant_id, job_id, delivery_id, pipeline, repository, max_attempts)
                SELECT \(tenantID.rawValue), j.job_id, \(deliveryID), j.pipeline, \(stored.repository),
                       \(maxAttempts)::integer
                FROM unnest(\(jobIDs), \(chosen.map(\.rawValue))) AS j (job_id, pipeline)
                """)
            try await transaction.query(
                """
                UPDATE webhook_deliveries
                SET status = 'accepted', reason = NULL, job_count = job_count + \(jobIDs.count)::integer,
                    replays = replays + 1, replayed_at = now(), updated_at = now()
                WHERE tenant_id = \(tenantID.rawValue) AND delivery_id = \(deliveryID)
                """)
            try await AuditLog().record(
                caller.entry("delivery.replay", targetType: "delivery", targetID: deliveryID.text), in: transaction)
            return AcceptedDelivery(deliveryID: deliveryID, status: .accepted, duplicate: false, jobIDs: jobIDs)
        }
        await send(accepted, tenantID: tenantID)
        return accepted
    }
}
