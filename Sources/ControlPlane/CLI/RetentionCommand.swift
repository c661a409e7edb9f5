import ArgumentParser
import Foundation
import Persistence
import Runtime
import Tenancy

/// `controlplane retention prune [--tenant ID] [--as-of ISO-8601]`: one retention pass now, by hand (the
/// workers make one every `CP_RETENTION_INTERVAL_SECONDS`), e.g. after a plan's retention was lowered;
/// prints what went. `--as-of` prunes as if it were that moment (a later one prunes more). Runs with the
/// owner role (`CP_MIGRATION_DATABASE_URL`): the application role may not prune anything under a day old.
struct RetentionCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "retention", abstract: "Prune what is past each plan's retention.", subcommands: [Prune.self])

    struct Prune: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Run one retention pass now and print what went.")

        @Option(help: "Only this tenant (its id).") var tenant: String?
        @Option(help: "Prune as of this moment (ISO 8601, e.g. 2027-01-01T00:00:00Z) instead of now.")
        var asOf: String?

        func run() async throws {
            let only = try tenant.map { text -> Set<TenantID> in
                guard let id = TenantID(string: text) else { throw ValidationError("--tenant must be a tenant id") }
                return [id]
            }
            let now = try asOf.map { text -> Date in
                guard let date = ISO8601DateFormatter().date(from: text) else {
                    throw ValidationError("--as-of must be an ISO 8601 time such as 2027-01-01T00:00:00Z")
                }
                return date
            }
            let parts = try Composition.forCommand(owner: true)
            let pruner = RetentionPruner(database: parts.database, policy: parts.configuration.runtime.retentionPolicy)
            let pruned = try await parts.withDatabase {
                try await pruner.prune(now: now ?? Date(), only: only, untilDone: true)
            }
            print(
                "pruned jobs \(pruned.jobs), deliveries \(pruned.deliveries), usage records \(pruned.usageRecords), notifications \(pruned.notifications), audit events \(pruned.auditEvents), sessions \(pruned.sessions), invitations \(pruned.invitations)"
            )
        }
    }
}
