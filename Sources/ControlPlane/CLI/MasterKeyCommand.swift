import ArgumentParser
import Foundation
import Tenancy

/// `controlplane master-key rotate [--dry-run]`, run with the owner role (`CP_MIGRATION_DATABASE_URL`),
/// `CP_MASTER_KEY` set to the new key and `CP_PREVIOUS_MASTER_KEY` to the old one: re-seals every
/// secret at rest with the new key while the servers keep running with both (see the README).
struct MasterKeyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "master-key", abstract: "Rotate the master key that seals secrets at rest.",
        subcommands: [Rotate.self])

    struct Rotate: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Re-seal every secret with CP_MASTER_KEY that CP_PREVIOUS_MASTER_KEY sealed (resumable).")

        @Flag(help: "Only count what is still sealed with the previous key.")
        var dryRun = false

        func run() async throws {
            let owner = try Composition.forCommand(owner: true)
            guard owner.box.hasPreviousKey else {
                throw ValidationError("set CP_PREVIOUS_MASTER_KEY to the key being rotated away from")
            }
            let outcome = try await owner.withDatabase {
                try await MasterKeyRotation(database: owner.database, box: owner.box, logger: owner.logger).run(
                    dryRun: dryRun)
            }
            print(
                dryRun
                    ? "\(outcome.resealed) sealed with the previous key, \(outcome.current) with the current one, \(outcome.unreadable) with neither"
                    : "re-sealed \(outcome.resealed), already current \(outcome.current), unreadable \(outcome.unreadable), changed meanwhile (run again) \(outcome.changedMeanwhile)"
            )
            if outcome.unreadable > 0 || outcome.changedMeanwhile > 0 { throw ExitCode(2) }
        }
    }
}
