import ControlPlane
import Foundation
import HummingbirdTesting
import Persistence
import PostgresNIO
import Testing

/// `budget_record_usage_batch`, the group commit of a tenant's concurrent settlements: each entry as
/// `budget_record_usage` would write it alone, the counters reconciling with the ledger; an entry that fails
/// takes the batch with it and nothing is written (the replica then records each entry alone:
/// `TenantBatcherTests`).
@Suite(.timeLimit(.minutes(2))) struct SettlementBatchTests {
    static let none = UUID(uuid: (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0))

    /// One settlement: its reservation (or none), whether it ends it, the request id and the tokens.
    struct Entry {
        let reservation: UUID?
        let release: Bool
        let request: String?
        let prompt: Int64
        let completion: Int64
    }

    /// Runs one batch of `entries` for `tenant` in its own transaction: the ledger ids, in order.
    static func settle(_ entries: [Entry], tenant: TenantID) async throws -> [Int64] {
        try await TestEnvironment.withTenantTransaction(tenant.description, owner: false) { transaction in
            let rows = try await transaction.query(
                """
                SELECT ordinal, record_id FROM budget_record_usage_batch(
                    \(entries.map { _ in tenant.rawValue }), \(entries.map { $0.reservation ?? none }),
                    \(entries.map(\.release)), \(entries.map { $0.request ?? "" }), \(entries.map { _ in none }),
                    \(entries.map { _ in "chat" }), \(entries.map { _ in "openai" }), \(entries.map { _ in "ok" }),
                    \(entries.map(\.prompt)), \(entries.map(\.completion)), \(entries.map { _ in Int64(0) }),
                    \(entries.map { $0.prompt + $0.completion }), \(entries.map { _ in false }),
                    \(entries.map { _ in Int64(0) }))
                ORDER BY ordinal
                """)
            var ids: [Int64] = []
            for try await (_, id) in rows.decode((Int, Int64).self) { ids.append(id) }
            return ids
        }
    }

    /// The tenant's ledger (request ids, oldest first) and its period's used and reserved tokens.
    static func books(_ tenant: TenantID) async throws -> (ledger: [String?], used: Int64, reserved: Int64) {
        try await TestEnvironment.withTenantTransaction(tenant.description, owner: false) { transaction in
            var ledger: [String?] = []
            for try await request in try await transaction.query(
                "SELECT request_id FROM usage_records ORDER BY record_id"
            ).decode(String?.self) {
                ledger.append(request)
            }
            var counters: (Int64, Int64) = (0, 0)
            for try await row in try await transaction.query("SELECT used, reserved FROM budget_periods").decode(
                (Int64, Int64).self)
            {
                counters = row
            }
            return (ledger, counters.0, counters.1)
        }
    }

    @Test func eachEntryIsWrittenAsAloneAndAFailedOneWritesNothing() async throws {
        try await TestEnvironment.withApp { client in
            let tenant = try await client.signup()
            try await Gateway.setUp(client, tenant, candidates: [Gateway.candidate("openai", "ok")], tokenLimit: 10_000)
            let id = try #require(TenantID(string: tenant.tenantID))
            let (first, second) = (UUID(), UUID())
            try await TestEnvironment.withTenantTransaction(id.description, owner: false) { transaction -> Void in
                for reservation in [first, second] {
                    try await transaction.query(
                        "SELECT granted FROM budget_reserve(\(id.rawValue), \(reservation), 1000, 1, 60, NULL)")
                }
            }
            // The first ends its reservation, the second has none, the third charges the second
            // reservation and keeps it open.
            let ids = try await Self.settle(
                [
                    Entry(reservation: first, release: true, request: "req-1", prompt: 100, completion: 10),
                    Entry(reservation: nil, release: false, request: nil, prompt: 1, completion: 1),
                    Entry(reservation: second, release: false, request: "req-3", prompt: 200, completion: 20),
                ], tenant: id)
            #expect(ids.count == 3 && ids == ids.sorted() && Set(ids).count == 3)
            var books = try await Self.books(id)
            #expect(books.ledger == ["req-1", nil, "req-3"])
            #expect(books.used == 332)
            // The first reservation ended; the second is still held.
            #expect(books.reserved == 1_000)

            // Negative tokens break the ledger's check: the whole batch fails and writes nothing.
            await #expect(throws: PSQLError.self) {
                _ = try await Self.settle(
                    [
                        Entry(reservation: second, release: true, request: "req-4", prompt: 5, completion: 5),
                        Entry(reservation: nil, release: false, request: "req-5", prompt: -1, completion: 0),
                    ], tenant: id)
            }
            books = try await Self.books(id)
            #expect(books.ledger == ["req-1", nil, "req-3"])
            #expect(books.used == 332 && books.reserved == 1_000)
            #expect(try await Gateway.discrepancies(tenant.tenantID) == 0)
        }
    }
}
