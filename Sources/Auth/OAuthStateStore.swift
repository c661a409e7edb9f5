import Crypto
import Foundation
import Persistence
import PostgresNIO

/// The sign-ins with GitHub under way: each `state` handed to GitHub, with its PKCE code verifier sealed
/// at rest. A state is consumed once, before it expires; expired rows are deleted as new ones come.
public struct OAuthStateStore: Sendable {
    let box: SecretBox

    public init(box: SecretBox) {
        self.box = box
    }

    /// A started sign-in: the `state` and the PKCE pair for GitHub's authorize URL, and the random value
    /// the starting browser keeps (in a cookie) to finish it.
    public struct Started: Sendable {
        public let state: String
        public let codeChallenge: String
        public let browser: String
    }

    static func hash(_ state: String) -> Data { Data(SHA256.hash(data: Data(state.utf8))) }

    static func sealContext(_ hash: Data) -> String {
        sealContext(hexHash: hash.map { String(format: "%02x", $0) }.joined())
    }

    /// The seal context of a verifier, from its state's hash in lowercase hex.
    public static func sealContext(hexHash: String) -> String { "oauth-state:" + hexHash }

    /// Records a new sign-in valid for `lifetime`; answers its state and S256 code challenge.
    public func start(lifetime: Duration, now: Date, on connection: PostgresConnection) async throws -> Started {
        let state = Base64URL.encode(SymmetricKey(size: .bits256).withUnsafeBytes { Data($0) })
        let verifier = Base64URL.encode(SymmetricKey(size: .bits256).withUnsafeBytes { Data($0) })
        let browser = Base64URL.encode(SymmetricKey(size: .bits256).withUnsafeBytes { Data($0) })
        let hash = Self.hash(state)
        let sealed = Data(try box.seal(Data(verifier.utf8), context: Self.sealContext(hash)))
        let expires = now.addingTimeInterval(TimeInterval(lifetime.components.seconds))
        try await connection.statement(
            "DELETE FROM oauth_states WHERE expires_at < \(now) - interval '1 hour'", logger: connection.logger)
        try await connection.statement(
            """
            INSERT INTO oauth_states (state_hash, verifier_sealed, created_at, expires_at, browser_hash)
            VALUES (\(hash), \(sealed), \(now), \(expires), \(Self.hash(browser)))
            """, logger: connection.logger)
        let challenge = Base64URL.encode(Data(SHA256.hash(data: Data(verifier.utf8))))
        return Started(state: state, codeChallenge: challenge, browser: browser)
    }

    /// Consumes `state`: its code verifier, if the state was issued here to the browser that holds
    /// `browser`, and is unused and unexpired.
    public func consume(_ state: String, browser: String, now: Date, on connection: PostgresConnection) async throws
        -> String?
    {
        let hash = Self.hash(state)
        let rows = try await connection.statement(
            """
            UPDATE oauth_states SET used_at = \(now)
            WHERE state_hash = \(hash) AND used_at IS NULL AND expires_at > \(now)
              AND browser_hash = \(Self.hash(browser))
            RETURNING verifier_sealed
            """, logger: connection.logger)
        var sealed: ByteBuffer?
        for try await row in rows.decode(ByteBuffer.self) { sealed = row }
        guard let sealed else { return nil }
        let verifier = try box.open(Array(buffer: sealed), context: Self.sealContext(hash))
        return String(decoding: verifier, as: UTF8.self)
    }
}
