import Foundation
import Logging
import Persistence
import PostgresNIO

/// Rotates the token signing key, run by `controlplane signing-key rotate` with the owner role (the
/// application role may not change signing keys). In one transaction it adds a key that verifies at
/// once and signs from `activationDelay` on, schedules every older key's retirement for when the last
/// token it may have signed has expired, and tells every replica to reload its keys.
public struct SigningKeyRotation: Sendable {
    /// What a rotation did.
    public struct Outcome: Sendable {
        public let newKid: String
        public let activatesAt: Date
        public let retiring: [(kid: String, at: Date)]
    }

    let database: Database
    let box: SecretBox

    public init(database: Database, box: SecretBox) {
        self.database = database
        self.box = box
    }

    public func rotate(activationDelay: Duration, retireOldAfter: Duration, now: Date = Date()) async throws -> Outcome
    {
        let activatesAt = now.addingTimeInterval(TimeInterval(activationDelay.components.seconds))
        let retiresAt = activatesAt.addingTimeInterval(TimeInterval(retireOldAfter.components.seconds))
        let key = SigningKey.generate(now: now, activatesAt: activatesAt)
        let box = self.box
        return try await database.transaction(.platform) { connection in
            try await SigningKeyring.insert(key, box: box, on: connection)
            let rows = try await connection.statement(
                """
                UPDATE signing_keys SET retired_at = LEAST(COALESCE(retired_at, \(retiresAt)), \(retiresAt))
                WHERE kid <> \(key.kid) AND (retired_at IS NULL OR retired_at > now())
                RETURNING kid, retired_at
                """, logger: connection.logger)
            var retiring: [(kid: String, at: Date)] = []
            for try await (kid, at) in rows.decode((String, Date).self) { retiring.append((kid, at)) }
            try await ApiKeyRepository.announce("signing-keys", on: connection)
            return Outcome(newKid: key.kid, activatesAt: activatesAt, retiring: retiring)
        }
    }

    /// Retires `kid` at `at` (now for a compromised key); false when no such unretired key exists.
    public func retire(kid: String, at: Date) async throws -> Bool {
        try await database.transaction(.platform) { connection in
            var found = false
            for try await _ in try await connection.statement(
                """
                UPDATE signing_keys SET retired_at = \(at)
                WHERE kid = \(kid) AND (retired_at IS NULL OR retired_at > \(at)) RETURNING 1
                """, logger: connection.logger)
            {
                found = true
            }
            if found { try await ApiKeyRepository.announce("signing-keys", on: connection) }
            return found
        }
    }
}
