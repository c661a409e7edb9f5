import BlockingWork
import Crypto
import Foundation
import Logging
import Persistence
import PostgresNIO
import Synchronization

/// The signing keys every replica shares, kept in Postgres with their private halves sealed under the
/// master key. Every key that is not retired verifies; the newest key whose `activatesAt` has passed
/// signs. A rotation publishes the new key for verification at once (replicas reload on the `NOTIFY`
/// it sends) and lets it sign only later, so no replica ever meets a token whose key it has not
/// loaded. A token naming an unknown `kid` also triggers at most one reload per interval.
public final class SigningKeyring: Sendable {
    private struct State {
        var keys: [SigningKey] = []
        var lastReload: ContinuousClock.Instant?
    }

    private let database: Database
    private let box: SecretBox
    private let state = Mutex(State())
    /// Loads run one after another: two at once (the listener's on connecting, the startup check's that
    /// generates the first key) could otherwise finish out of order and leave the older read applied,
    /// an empty key set on a replica whose database holds a key.
    private let loads = AsyncSerialLock()
    private let reloadInterval: Duration
    let logger: Logger

    public init(database: Database, box: SecretBox, reloadInterval: Duration = .seconds(5), logger: Logger) {
        self.database = database
        self.box = box
        self.reloadInterval = reloadInterval
        self.logger = logger
    }

    /// The key that signs new tokens at `now`; loads (and on first start generates) keys when needed.
    public func currentSigningKey() async throws -> SigningKey {
        if let key = signingKey(now: Date()) { return key }
        try await load(generateIfEmpty: true)
        guard let key = signingKey(now: Date()) else { throw TokenError.unknownKeyID }
        return key
    }

    private func signingKey(now: Date) -> SigningKey? {
        state.withLock { state in
            state.keys.filter { $0.activatesAt <= now && $0.isVerifying(at: now) }.max {
                $0.activatesAt < $1.activatesAt
            }
        }
    }

    /// The verification key for `kid`, if known now (no I/O).
    public func verificationKey(_ kid: String) -> VerificationKey? {
        let now = Date()
        return state.withLock { state in state.keys.first { $0.kid == kid && $0.isVerifying(at: now) }?.publicKey }
    }

    /// Every verification key, for the JWKS document.
    public func verificationKeys() -> [VerificationKey] {
        let now = Date()
        return state.withLock { $0.keys.filter { $0.isVerifying(at: now) } }.map(\.publicKey).sorted { $0.kid < $1.kid }
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

    /// Loads every key that is not retired; with `generateIfEmpty`, creates the first one under an
    /// advisory lock so replicas starting together agree on a single key.
    public func load(generateIfEmpty: Bool) async throws {
        try await loads.run { try await loadNow(generateIfEmpty: generateIfEmpty) }
    }

    private func loadNow(generateIfEmpty: Bool) async throws {
        let keys = try await database.transaction(.platform) { connection -> [SigningKey] in
            var keys = try await Self.fetch(box: box, on: connection)
            if keys.isEmpty, generateIfEmpty {
                try await connection.statement("SELECT pg_advisory_xact_lock(7300113)", logger: logger)
                keys = try await Self.fetch(box: box, on: connection)
                if keys.isEmpty {
                    let key = SigningKey.generate()
                    try await Self.insert(key, box: box, on: connection)
                    logger.info("generated the first token signing key", metadata: ["kid": "\(key.kid)"])
                    keys = [key]
                }
            }
            return keys
        }
        state.withLock { state in
            state.keys = keys
            state.lastReload = ContinuousClock.now
        }
    }

    /// What a private key is sealed for (its kid), so it cannot be moved to another row.
    public static func sealContext(_ kid: String) -> String { "signing-key:\(kid)" }

    static func fetch(box: SecretBox, on connection: PostgresConnection) async throws -> [SigningKey] {
        let rows = try await connection.statement(
            """
            SELECT kid, private_key_sealed, created_at, activates_at, retired_at FROM signing_keys
            WHERE retired_at IS NULL OR retired_at > now()
            """, logger: connection.logger)
        var keys: [SigningKey] = []
        for try await (kid, sealed, createdAt, activatesAt, retiredAt) in rows.decode(
            (String, Data, Date, Date, Date?).self)
        {
            let raw = try box.open(sealed, context: sealContext(kid))
            keys.append(
                SigningKey(
                    kid: kid, privateKey: try .init(rawRepresentation: raw), createdAt: createdAt,
                    activatesAt: activatesAt, retiresAt: retiredAt))
        }
        return keys
    }

    static func insert(_ key: SigningKey, box: SecretBox, on connection: PostgresConnection) async throws {
        let sealed = try box.seal(key.privateKey.rawRepresentation, context: sealContext(key.kid))
        let publicKey = Data(key.privateKey.publicKey.rawRepresentation)
        try await connection.statement(
            """
            INSERT INTO signing_keys (kid, algorithm, public_key, private_key_sealed, created_at, activates_at)
            VALUES (\(key.kid), 'EdDSA', \(publicKey), \(Data(sealed)), \(key.createdAt), \(key.activatesAt))
            """, logger: connection.logger)
    }
}
