import Foundation
import Jobs
import Logging
import Persistence
import PostgresNIO

/// What ingest needs of the endpoint behind a hook URL: its tenant, whether it receives at all, its
/// secrets (opened), and how it routes a delivery. Read in one round trip per delivery, so a rotation,
/// deactivation, deletion or suspension holds from the next delivery on.
public struct IngestRoute: Sendable {
    public let tenantID: TenantID
    public let endpointID: UUID
    /// Active endpoint of an active tenant.
    public let receives: Bool
    /// The current secret and, within a rotation's grace period, the previous one.
    public let secrets: [[UInt8]]
    public let pipelines: [Pipeline]
    public let repositories: [String]

    /// The route of `endpointID`, or nil when there is no such endpoint.
    public static func find(_ endpointID: UUID, box: SecretBox, database: Database) async throws -> IngestRoute? {
        let rows = try await database.query(
            """
            SELECT tenant_id, tenant_status, active, secret_sealed, previous_secret_sealed,
                   previous_secret_expires_at > now(), pipelines, repositories
            FROM webhook_route(\(endpointID))
            """, logger: database.logger)
        var found: IngestRoute?
        for try await row in rows.decode((UUID, String, Bool, ByteBuffer, ByteBuffer?, Bool?, [String], [String]).self)
        {
            let context = WebhookEndpointStore.sealContext(endpointID)
            var secrets = [Array(try box.open(Array(buffer: row.3), context: context))]
            if let previous = row.4, row.5 == true {
                secrets.append(Array(try box.open(Array(buffer: previous), context: context)))
            }
            found = IngestRoute(
                tenantID: TenantID(row.0), endpointID: endpointID, receives: row.2 && row.1 == "active",
                secrets: secrets, pipelines: row.6.compactMap(Pipeline.init(rawValue:)), repositories: row.7)
        }
        return found
    }
}
