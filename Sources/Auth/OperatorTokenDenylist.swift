import Foundation
import Persistence
import PostgresNIO

/// Operator tokens revoked before their expiry, by `jti`. Every operator request reads it (operator
/// calls are rare, and a revocation must hold at once on every replica); only the owner role, through
/// `controlplane operator-token revoke`, writes it.
public struct OperatorTokenDenylist: Sendable {
    let database: Database

    public init(database: Database) { self.database = database }

    /// Whether the token `jti` was revoked.
    public func contains(jti: String) async throws -> Bool {
        try await database.transaction(.platform) { connection in
            for try await _ in try await connection.statement(
                "SELECT 1 FROM operator_token_denylist WHERE jti = \(jti)", logger: connection.logger)
            {
                return true
            }
            return false
        }
    }

    /// Revokes `jti` until `expiresAt` (its token's own expiry); also drops entries that expired.
    public func revoke(jti: String, expiresAt: Date) async throws {
        try await database.transaction(.platform) { connection in
            try await connection.statement(
                """
                INSERT INTO operator_token_denylist (jti, expires_at) VALUES (\(jti), \(expiresAt))
                ON CONFLICT (jti) DO NOTHING
                """, logger: connection.logger)
            try await connection.statement(
                "DELETE FROM operator_token_denylist WHERE expires_at < now() - interval '1 day'",
                logger: connection.logger)
        }
    }
}
