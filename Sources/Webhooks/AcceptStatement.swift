import Foundation
import Jobs
import Persistence
import PostgresNIO

/// `webhook_accept`, prepared once per connection: every delivery is recorded through it (as an unnamed
/// statement it was parsed and planned for each one).
struct AcceptStatement: PostgresPreparedStatement {
    static let sql = """
        SELECT delivery_id, status, duplicate, job_ids
        FROM webhook_accept($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)
        """
    typealias Row = AcceptedDelivery
    let delivery: NewDelivery
    let deliveryID: UUID
    let status: DeliveryStatus
    let reason: String?
    let pipelines: [Pipeline]
    let jobIDs: [UUID]
    let maxAttempts: Int32

    func makeBindings() throws -> PostgresBindings {
        var bindings = PostgresBindings()
        bindings.append(delivery.tenantID.rawValue)
        bindings.append(delivery.endpointID)
        bindings.append(deliveryID)
        bindings.append(delivery.githubDelivery)
        bindings.append(delivery.event)
        bindings.append(delivery.payload.action)
        bindings.append(delivery.payload.repository)
        bindings.append(delivery.payload.ref)
        bindings.append(status.rawValue)
        bindings.append(reason)
        bindings.append(delivery.contentType)
        try bindings.append(Data(delivery.body))
        bindings.append(pipelines.map(\.rawValue))
        bindings.append(jobIDs)
        bindings.append(maxAttempts)
        return bindings
    }

    func decodeRow(_ row: PostgresRow) throws -> Row {
        let (id, status, duplicate, jobIDs) = try row.decode((UUID, String, Bool, [UUID]).self)
        return AcceptedDelivery(
            deliveryID: id, status: DeliveryStatus(rawValue: status) ?? .accepted, duplicate: duplicate,
            jobIDs: jobIDs)
    }
}
