import Foundation
import Jobs
import Logging
import Persistence
import PostgresNIO
import Tenancy

/// Where a delivery stands.
public enum DeliveryStatus: String, Sendable, CaseIterable, Codable {
    case accepted, enqueued, processed, ignored, failed
}

/// A verified delivery about to be recorded, with what it becomes.
public struct NewDelivery: Sendable {
    public let tenantID: TenantID
    public let endpointID: UUID
    public let githubDelivery: String
    public let event: String
    public let payload: GitHubPayload
    public let decision: DeliveryDecision
    public let contentType: String
    public let body: [UInt8]

    public init(
        tenantID: TenantID, endpointID: UUID, githubDelivery: String, event: String, payload: GitHubPayload,
        decision: DeliveryDecision, contentType: String, body: [UInt8]
    ) {
        self.tenantID = tenantID
        self.endpointID = endpointID
        self.githubDelivery = githubDelivery
        self.event = event
        self.payload = payload
        self.decision = decision
        self.contentType = contentType
        self.body = body
    }
}

/// The recorded delivery: a new one, or the first one of the same GitHub delivery id (`duplicate`).
public struct AcceptedDelivery: Sendable, Equatable {
    public let deliveryID: UUID
    public let status: DeliveryStatus
    public let duplicate: Bool
    public let jobIDs: [UUID]
}

/// A delivery as the API shows it (`jobIDs` only when read on its own).
public struct DeliveryRecord: Sendable, Equatable {
    public let id: UUID
    public let endpointID: UUID
    public let githubDelivery: String
    public let event: String
    public let action: String?
    public let repository: String?
    public let ref: String?
    public let status: DeliveryStatus
    public let reason: String?
    public let jobCount: Int
    public let receivedAt: Date
    public let updatedAt: Date
    public var jobIDs: [UUID]?
}

/// Records deliveries and reads them back. Recording is one durable statement (`webhook_accept`, prepared
/// once per connection): the delivery and its jobs are committed before GitHub gets its answer.
public struct DeliveryStore: Sendable {
    public init() {}

    /// Records `delivery` with one job per pipeline it decided on (each allowed `maxAttempts`).
    public func accept(_ delivery: NewDelivery, maxAttempts: Int, database: Database) async throws -> AcceptedDelivery {
        let pipelines: [Pipeline]
        let status: DeliveryStatus
        let reason: String?
        switch delivery.decision {
        case .jobs(let chosen):
            (pipelines, status, reason) = (chosen, .accepted, nil)
        case .ignored(let why):
            (pipelines, status, reason) = ([], .ignored, why)
        }
        let rows = try await database.execute(
            AcceptStatement(
                delivery: delivery, deliveryID: UUID(), status: status, reason: reason, pipelines: pipelines,
                jobIDs: pipelines.map { _ in UUID() }, maxAttempts: Int32(clamping: maxAttempts)),
            for: delivery.tenantID, logger: database.logger)
        guard let accepted = rows.first else { throw DeliveryNotRecorded() }
        return accepted
    }

    private typealias Row = (UUID, UUID, String, String, String?, String?, String?, String, String?, Int32, Date, Date)
    private static let columns =
        "delivery_id, endpoint_id, github_delivery, event, action, repository, ref, status, reason, job_count, received_at, updated_at"
    private static let keyset = KeysetQuery(
        table: "webhook_deliveries", columns: columns, timeColumn: "received_at", idColumn: "delivery_id")
    private static let topID = UUID(
        uuid: (255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255, 255))

    private static func record(_ row: Row) -> DeliveryRecord {
        DeliveryRecord(
            id: row.0, endpointID: row.1, githubDelivery: row.2, event: row.3, action: row.4, repository: row.5,
            ref: row.6, status: DeliveryStatus(rawValue: row.7) ?? .failed, reason: row.8, jobCount: Int(row.9),
            receivedAt: row.10, updatedAt: row.11)
    }

    /// Which deliveries a list shows.
    public struct Filter: Sendable {
        public var status: DeliveryStatus?
        public var event: String?
        /// `owner/name`, compared case-insensitively.
        public var repository: String?

        public init(status: DeliveryStatus? = nil, event: String? = nil, repository: String? = nil) {
            self.status = status
            self.event = event
            self.repository = repository
        }
    }

    /// The tenant's deliveries matching `filter`, newest first.
    public func list(_ filter: Filter, limit: Int, after cursor: PageCursor?, in transaction: TenantTransaction)
        async throws -> Page<DeliveryRecord>
    {
        guard let bound = cursor.bound(parse: UUID.init(uuidString:), top: Self.topID) else { throw InvalidCursor() }
        var filters: [(column: String, value: any PostgresEncodable)] = [("tenant_id", transaction.tenantID.rawValue)]
        if let status = filter.status { filters.append(("status", status.rawValue)) }
        if let event = filter.event { filters.append(("event", event)) }
        if let repository = filter.repository { filters.append(("lower(repository)", repository.lowercased())) }
        let rows = try await transaction.query(try Self.keyset.page(filters: filters, below: bound, limit: limit))
        var deliveries: [DeliveryRecord] = []
        for try await row in rows.decode(Row.self) { deliveries.append(Self.record(row)) }
        return Page(fetched: deliveries, limit: limit) { PageCursor(time: $0.receivedAt, id: $0.id.uuidString) }
    }

    /// One delivery with the ids of its jobs.
    public func find(_ id: UUID, in transaction: TenantTransaction) async throws -> DeliveryRecord? {
        let tenant = transaction.tenantID.rawValue
        let rows = try await transaction.query(
            """
            SELECT \(unescaped: Self.columns) FROM webhook_deliveries
            WHERE tenant_id = \(tenant) AND delivery_id = \(id)
            """)
        var found: DeliveryRecord?
        for try await row in rows.decode(Row.self) { found = Self.record(row) }
        guard var delivery = found else { return nil }
        var jobIDs: [UUID] = []
        let jobs = try await transaction.query(
            "SELECT job_id FROM jobs WHERE tenant_id = \(tenant) AND delivery_id = \(id) ORDER BY pipeline")
        for try await job in jobs.decode(UUID.self) { jobIDs.append(job) }
        delivery.jobIDs = jobIDs
        return delivery
    }
}

/// `webhook_accept` answered no row (not expected to happen).
struct DeliveryNotRecorded: Error {}
