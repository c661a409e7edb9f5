import ArgumentParser
import Auth
import Foundation
import Tenancy

/// `controlplane signing-key rotate` and `controlplane signing-key retire KID`, run with the owner
/// role (`CP_MIGRATION_DATABASE_URL`): the application role cannot change signing keys.
struct SigningKeyCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "signing-key", abstract: "Rotate or retire the token signing keys.",
        subcommands: [Rotate.self, Retire.self])

    struct Rotate: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Add a new signing key: published at once, signing after --activate-after seconds.")

        @Option(help: "Seconds before the new key signs (every replica reloads within it).")
        var activateAfter = 30
        @Option(help: "Seconds the old keys keep verifying after that (default: the longest key lifetime).")
        var retireAfter: Int?

        func run() async throws {
            guard (0...86_400).contains(activateAfter) else { throw ValidationError("--activate-after is 0 to 86400") }
            let owner = try Composition.forCommand(owner: true)
            let retire = retireAfter ?? Int(owner.configuration.auth.maxKeyLifetime.components.seconds)
            guard retire >= 0 else { throw ValidationError("--retire-after must not be negative") }
            let outcome = try await owner.withDatabase {
                try await SigningKeyRotation(database: owner.database, box: owner.box).rotate(
                    activationDelay: .seconds(activateAfter), retireOldAfter: .seconds(retire))
            }
            let formatter = ISO8601DateFormatter()
            print("new signing key \(outcome.newKid) signs from \(formatter.string(from: outcome.activatesAt))")
            for old in outcome.retiring { print("key \(old.kid) retires at \(formatter.string(from: old.at))") }
        }
    }

    struct Retire: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Retire one signing key now (a compromised key): its tokens stop verifying.")

        @Argument(help: "The kid.") var kid: String

        func run() async throws {
            let owner = try Composition.forCommand(owner: true)
            let found = try await owner.withDatabase {
                try await SigningKeyRotation(database: owner.database, box: owner.box).retire(kid: kid, at: Date())
            }
            guard found else { throw ValidationError("no unretired key \(kid)") }
            print("retired signing key \(kid)")
        }
    }
}
