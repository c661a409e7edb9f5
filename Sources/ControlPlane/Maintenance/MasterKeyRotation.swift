import Auth
import Foundation
import Gateway
import Interventions
import Logging
import Notifications
import Persistence
import PostgresNIO
import Tenancy
import Webhooks

/// Re-seals every secret at rest with the current master key: signing keys, stored signup answers, and
/// per tenant its stored idempotent answers, provider credentials, webhook secrets (current and
/// previous) and notification secret. Online: the servers run meanwhile with both keys (the previous one
/// in `CP_PREVIOUS_MASTER_KEY`) and open either. Resumable: a value the current key already opens is
/// left alone, so a run that stopped half-way is simply run again. Each value is replaced only if it is
/// still the one that was read (a server may have sealed a new one meanwhile), one short transaction per
/// table and tenant.
struct MasterKeyRotation: Sendable {
    /// What a run found.
    struct Outcome: Sendable, Equatable {
        /// Values re-sealed with the current key (or, in a dry run, that would be).
        var resealed = 0
        /// Values the current key already opens.
        var current = 0
        /// Values neither key opens (sealed with a third key, or damaged): named in the log, left alone.
        var unreadable = 0
        /// Values changed by a server between the read and the write: left for the next run.
        var changedMeanwhile = 0

        static func += (lhs: inout Outcome, rhs: Outcome) {
            lhs.resealed += rhs.resealed
            lhs.current += rhs.current
            lhs.unreadable += rhs.unreadable
            lhs.changedMeanwhile += rhs.changedMeanwhile
        }
    }

    /// One sealed column: its table, the columns that find its row (as text), and the context it is
    /// sealed for, from those columns.
    struct SealedColumn: Sendable {
        let table: String
        let keys: [String]
        let column: String
        let context: @Sendable (_ tenant: TenantID?, _ keys: [String]) -> String?
    }

    let database: Database
    let box: SecretBox
    let logger: Logger

    static let platform: [SealedColumn] = [
        SealedColumn(table: "signing_keys", keys: ["kid"], column: "private_key_sealed") { _, keys in
            SigningKeyring.sealContext(keys[0])
        },
        SealedColumn(table: "signup_idempotency_records", keys: ["idem_key"], column: "response_sealed") { _, keys in
            "idempotency:signup:\(keys[0])"
        },
        // bytea as text is `\x` and lowercase hex.
        SealedColumn(table: "oauth_states", keys: ["state_hash"], column: "verifier_sealed") { _, keys in
            keys[0].hasPrefix("\\x") ? OAuthStateStore.sealContext(hexHash: String(keys[0].dropFirst(2))) : nil
        },
    ]

    static let perTenant: [SealedColumn] = [
        SealedColumn(
            table: "idempotency_records", keys: ["caller", "operation", "idem_key"], column: "response_sealed"
        ) { tenant, keys in
            tenant.map { IdempotencyStore.sealContext(.caller(keys[0]), $0, keys[1], keys[2]) }
        },
        SealedColumn(table: "provider_credentials", keys: ["provider"], column: "api_key_sealed") { tenant, keys in
            tenant.map { CredentialRepository.sealContext($0, keys[0]) }
        },
        SealedColumn(table: "webhook_endpoints", keys: ["endpoint_id"], column: "secret_sealed") { _, keys in
            UUID(uuidString: keys[0]).map(WebhookEndpointStore.sealContext)
        },
        SealedColumn(table: "webhook_endpoints", keys: ["endpoint_id"], column: "previous_secret_sealed") { _, keys in
            UUID(uuidString: keys[0]).map(WebhookEndpointStore.sealContext)
        },
        SealedColumn(table: "notification_settings", keys: [], column: "secret_sealed") { tenant, _ in
            tenant.map(NotificationStore.sealContext)
        },
        SealedColumn(table: "sessions", keys: ["session_id"], column: "seed_sealed") { tenant, keys in
            guard let tenant, let session = UUID(uuidString: keys[0]) else { return nil }
            return SessionRepository.sealContext(tenant, session: session)
        },
        SealedColumn(table: "notification_events", keys: ["event_id"], column: "sealed_secret") { tenant, keys in
            guard let tenant, let event = UUID(uuidString: keys[0]) else { return nil }
            return NotificationStore.eventSecretContext(tenant, event: event)
        },
        SealedColumn(table: "intervention_settings", keys: [], column: "slack_webhook_sealed") { tenant, _ in
            tenant.map(InterventionStore.slackContext)
        },
    ]

    /// Re-seals everything (with `dryRun`, only counts).
    func run(dryRun: Bool = false) async throws -> Outcome {
        var outcome = Outcome()
        for column in Self.platform {
            outcome += try await database.transaction(.platform) { connection in
                try await reseal(column, tenant: nil, on: connection, dryRun: dryRun)
            }
        }
        for (tenant, _) in try await TenantRepository().allPlans(from: database) {
            for column in Self.perTenant {
                outcome += try await database.transaction(.tenant(tenant)) { connection in
                    try await reseal(column, tenant: tenant, on: connection, dryRun: dryRun)
                }
            }
        }
        return outcome
    }

    private func reseal(
        _ column: SealedColumn, tenant: TenantID?, on connection: PostgresConnection, dryRun: Bool
    ) async throws -> Outcome {
        var outcome = Outcome()
        let keyList = column.keys.map { "\($0)::text" }.joined(separator: ", ")
        let tenantFilter = tenant.map { "tenant_id = '\($0)'::uuid AND " } ?? ""
        let rows = try await connection.statement(
            PostgresQuery(
                unsafeSQL: """
                    SELECT ARRAY[\(keyList)]::text[], \(column.column) FROM \(column.table)
                    WHERE \(tenantFilter)\(column.column) IS NOT NULL AND octet_length(\(column.column)) > 0
                    """), logger: logger)
        var found: [([String], Data)] = []
        for try await (keys, sealed) in rows.decode(([String], Data).self) { found.append((keys, sealed)) }

        for (keys, sealed) in found {
            guard keys.count == column.keys.count, let context = column.context(tenant, keys) else {
                outcome.unreadable += 1
                continue
            }
            let opened: (plaintext: Data, key: SecretBox.Opener)
            do {
                opened = try box.openReportingKey(sealed, context: context)
            } catch {
                outcome.unreadable += 1
                logger.error(
                    "a sealed value opens with neither master key",
                    metadata: ["table": "\(column.table)", "column": "\(column.column)", "row": "\(keys)"])
                continue
            }
            guard opened.key == .previous else {
                outcome.current += 1
                continue
            }
            guard !dryRun else {
                outcome.resealed += 1
                continue
            }
            let resealed = Data(try box.seal(opened.plaintext, context: context))
            var bindings = PostgresBindings()
            try bindings.append(resealed)
            try bindings.append(sealed)
            var conditions = ["\(column.column) = $2"]
            for (index, (name, value)) in zip(column.keys, keys).enumerated() {
                try bindings.append(value)
                conditions.append("\(name)::text = $\(index + 3)")
            }
            if let tenant {
                try bindings.append(tenant.rawValue)
                conditions.append("tenant_id = $\(column.keys.count + 3)")
            }
            let updated = try await connection.statement(
                PostgresQuery(
                    unsafeSQL: """
                        UPDATE \(column.table) SET \(column.column) = $1
                        WHERE \(conditions.joined(separator: " AND ")) RETURNING 1
                        """, binds: bindings), logger: logger)
            var changed = false
            for try await _ in updated { changed = true }
            if changed { outcome.resealed += 1 } else { outcome.changedMeanwhile += 1 }
        }
        return outcome
    }
}
