import Crypto
import Foundation
import Logging
import PostgresNIO
import Synchronization
import Tenancy

/// The signing keys every replica shares, kept in Postgres with their private halves sealed under the
/// master key. The newest unretired key signs; every unretired key verifies, so several are active at
/// once during a rotation. A token naming an unknown `kid` triggers at most one reload per interval,
/// which is how a key added by another replica becomes known here.
public final class SigningKeyring: Sendable {
    private struct State {
        var signing: SigningKey?
        var verification: [String: VerificationKey] = [:]
        var lastReload: ContinuousClock.Instant?
    }

    private let database: Database
    private let box: SecretBox
    private let state = Mutex(State())
    private let reloadInterval: Duration
    let logger: Logger

    public init(database: Database, box: SecretBox, reloadInterval: Duration = .seconds(5), logger: Logger) {
        self.database = database
        self.box = box
        self.reloadInterval = reloadInterval
        self.logger = logger
    }

    /// The key that signs new tokens; loads (and on first start generates) keys when needed.
    public func currentSigningKey() async throws -> SigningKey {
        if let key = state.withLock({ $0.signing }) { return key }
        try await load(generateIfEmpty: true)
        guard let key = state.withLock({ $0.signing }) else { throw TokenError.unknownKeyID }
        return key
    }

    /// The verification key for `kid`, if known now (no I/O).
    public func verificationKey(_ kid: String) -> VerificationKey? {
        state.withLock { $0.verification[kid] }
    }

    /// Every verification key, for the JWKS document.
    public func verificationKeys() -> [VerificationKey] {
        state.withLock { Array($0.verification.values) }.sorted { $0.kid < $1.kid }
    }

    /// Reloads from Postgres unless it did so within the reload interval; true when it reloaded.
    @discardableResult
    public func reloadIfStale() async throws -> Bool {
        let now = ContinuousClock.now
        let due = state.withLock { state -> Bool in
            if let last = state.lastReload, now - last < reloadInterval { return false }
            state.lastReload = now
            return true
        }
        guard due else { return false }
        try await load(generateIfEmpty: false)
        return true
    }

    /// Loads every unretired key; with `generateIfEmpty`, creates the first one under an advisory lock
    /// so replicas starting together agree on a single key.
    public func load(generateIfEmpty: Bool) async throws {
        let keys = try await database.transaction(.platform) { connection -> [SigningKey] in
            var keys = try await fetch(on: connection)
            if keys.isEmpty, generateIfEmpty {
                try await connection.query("SELECT pg_advisory_xact_lock(7300113)", logger: logger)
                keys = try await fetch(on: connection)
                if keys.isEmpty {
                    let key = SigningKey.generate()
                    try await insert(key, on: connection)
                    logger.info("generated the first token signing key", metadata: ["kid": "\(key.kid)"])
                    keys = [key]
                }
            }
            return keys
        }
        state.withLock { state in
            state.signing = keys.max { $0.createdAt < $1.createdAt }
            state.verification = Dictionary(uniqueKeysWithValues: keys.map { ($0.kid, $0.publicKey) })
            state.lastReload = ContinuousClock.now
        }
    }

    private func fetch(on connection: PostgresConnection) async throws -> [SigningKey] {
        let rows = try await connection.query(
            "SELECT kid, private_key_sealed, created_at FROM signing_keys WHERE retired_at IS NULL",
            logger: logger)
        var keys: [SigningKey] = []
        for try await (kid, sealed, createdAt) in rows.decode((String, Data, Date).self) {
            let raw = try box.open(sealed, context: "signing-key:\(kid)")
            keys.append(SigningKey(kid: kid, privateKey: try .init(rawRepresentation: raw), createdAt: createdAt))
        }
        return keys
    }

    private func insert(_ key: SigningKey, on connection: PostgresConnection) async throws {
        let sealed = try box.seal(key.privateKey.rawRepresentation, context: "signing-key:\(key.kid)")
        let publicKey = Data(key.privateKey.publicKey.rawRepresentation)
        try await connection.query(
            """
            INSERT INTO signing_keys (kid, algorithm, public_key, private_key_sealed, created_at)
            VALUES (\(key.kid), 'EdDSA', \(publicKey), \(Data(sealed)), \(key.createdAt))
            """, logger: logger)
    }
}
