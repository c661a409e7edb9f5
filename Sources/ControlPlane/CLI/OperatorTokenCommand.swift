import ArgumentParser
import Auth
import Foundation
import Tenancy

/// `controlplane operator-token [--subject NAME] [--ttl SECONDS]` prints an operator token;
/// `controlplane operator-token revoke TOKEN|JTI` refuses it from then on, on every replica.
struct OperatorTokenCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "operator-token", abstract: "Print an operator token for the /v1/admin routes.",
        subcommands: [Mint.self, Revoke.self], defaultSubcommand: Mint.self)

    struct Mint: AsyncParsableCommand {
        static let configuration = CommandConfiguration(commandName: "mint", abstract: "Print a new operator token.")

        @Option(help: "Who the token is for; recorded in audit logs.") var subject = "admin"
        @Option(help: "Lifetime in seconds (default CP_OPERATOR_TOKEN_TTL_SECONDS, at most 86400).") var ttl: Int?

        func run() async throws {
            let parts = try Composition.forCommand()
            let lifetime = ttl ?? Int(parts.configuration.auth.operatorTokenLifetime.components.seconds)
            guard (60...86_400).contains(lifetime) else { throw ValidationError("--ttl must be 60 to 86400 seconds") }
            guard subject.utf8.count <= 100, subject.unicodeScalars.allSatisfy({ $0.value > 0x20 && $0.value < 0x7F })
            else { throw ValidationError("--subject must be up to 100 visible ASCII characters") }
            let token = try await parts.withDatabase {
                try await parts.keyring.load(generateIfEmpty: true)
                return try await parts.issuer.operatorToken(subject: subject, lifetime: .seconds(lifetime))
            }
            print(token)
        }
    }

    struct Revoke: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Revoke an operator token (give the token, or its jti) with the owner role.")

        @Argument(help: "The token, or its jti.") var token: String

        func run() async throws {
            let owner = try Composition.forCommand(owner: true)
            let token = self.token
            // One run of the pool for the whole command: a PostgresClient runs at most once.
            let jti = try await owner.withDatabase { () -> String in
                let (jti, expiresAt): (String, Date)
                if token.split(separator: ".").count == 3 {
                    try await owner.keyring.load(generateIfEmpty: false)
                    let claims = try owner.codec.verifySignature(token, keys: owner.keyring.verificationKey)
                    guard claims.kind == .operator else { throw ValidationError("this is not an operator token") }
                    (jti, expiresAt) = (claims.jti, Date(timeIntervalSince1970: TimeInterval(claims.exp)))
                } else {
                    // A bare jti: keep it listed for the longest operator token lifetime.
                    (jti, expiresAt) = (token, Date().addingTimeInterval(86_400))
                }
                guard !jti.isEmpty, jti.utf8.count <= 64 else { throw ValidationError("a jti is 1 to 64 characters") }
                try await OperatorTokenDenylist(database: owner.database).revoke(jti: jti, expiresAt: expiresAt)
                return jti
            }
            print("revoked operator token \(jti)")
        }
    }
}
