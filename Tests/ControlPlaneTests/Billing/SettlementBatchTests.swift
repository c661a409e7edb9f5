import ControlPlane
import Foundation
import HummingbirdTesting
import Persistence
import PostgresNIO
import Testing

/// `budget_record_usage_batch`, the group commit of a tenant's concurrent settlements: each entry as
/// `budget_record_usage` would write it alone; an entry that fails writes nothing and fails no other; the
/// counters still reconcile with the ledger.
@Suite(.timeLimit(.minutes(2))) struct SettlementBatchTests {
    @Test func eachEntryIsWrittenAsAloneAndAFailedOneWritesNothing() async throws {
        try await TestEnvironment.withApp { client in
            let tenant = try await client.signup()
            try await Gateway.setUp(client, tenant, candidates: [Gateway.candidate("openai", "ok")], tokenLimit: 10_000)
            let id = try #require(TenantID(string: tenant.tenantID))
            let (first, second) = (UUID(), UUID())
            let none = UUID(uuid: (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0))
            let (answers, ledger, used, reserved) = try await TestEnvironment.withDatabase { pool in
                try await Database(client: pool, logger: TestEnvironment.logger).withTenant(id) { transaction in
                    for reservation in [first, second] {
                        try await transaction.query(
                            "SELECT granted FROM budget_reserve(\(id.rawValue), \(reservation), 1000, 1, 60, NULL)")
                    }
                    // The first releases its reservation, the second's tokens are negative (refused by the
                    // ledger's check), the third charges the second reservation and keeps it open.
                    let rows = try await transaction.query(
                        """
                        SELECT ordinal, record_id, error FROM budget_record_usage_batch(
                            \([id.rawValue, id.rawValue, id.rawValue]), \([first, none, second]), \([true, false, false]),
                            \(["req-1", "", "req-3"]), \([none, none, none]), \(["chat", "chat", "chat"]),
                            \(["openai", "openai", "openai"]), \(["ok", "ok", "ok"]), \([Int64(100), -1, 200]),
                            \([Int64(10), 0, 20]), \([Int64(0), 0, 0]), \([Int64(110), 0, 220]),
                            \([false, false, false]), \([Int64(0), 0, 0]))
                        ORDER BY ordinal
                        """)
                    var answers: [(written: Bool, failed: Bool)] = []
                    for try await (_, record, error) in rows.decode((Int, Int64?, String?).self) {
                        answers.append((record != nil, error != nil))
                    }
                    try await transaction.query("SELECT set_config('app.tenant_id', \(id.description), true)")
                    var ledger: [String?] = []
                    for try await request in try await transaction.query(
                        "SELECT request_id FROM usage_records ORDER BY record_id"
                    ).decode(String?.self) {
                        ledger.append(request)
                    }
                    var counters: (Int64, Int64) = (0, 0)
                    for try await row in try await transaction.query(
                        "SELECT used, reserved FROM budget_periods"
                    ).decode((Int64, Int64).self) {
                        counters = row
                    }
                    return (answers, ledger, counters.0, counters.1)
                }
            }
            #expect(answers.map(\.written) == [true, false, true])
            #expect(answers.map(\.failed) == [false, true, false])
            #expect(ledger == ["req-1", "req-3"])
            #expect(used == 330)
            // The first reservation ended; the second is still held.
            #expect(reserved == 1_000)
            #expect(try await Gateway.discrepancies(tenant.tenantID) == 0)
        }
    }
}
