import Crypto
import Foundation
import Persistence

/// A session's refresh token of one generation: `cprt_` and the base64url of the tenant id, the session
/// id, the generation (4 bytes, big-endian) and HMAC-SHA256(seed, generation). The seed is the session's
/// secret, so any generation the session issued can be checked, and an old one recognised as reuse.
public struct RefreshToken: Sendable, Equatable {
    public let tenantID: TenantID
    public let sessionID: UUID
    public let generation: UInt32
    let mac: Data

    static let prefix = "cprt_"

    /// The token of `generation` for a session whose seed is `seed`.
    public init(tenantID: TenantID, sessionID: UUID, generation: UInt32, seed: Data) {
        self.tenantID = tenantID
        self.sessionID = sessionID
        self.generation = generation
        self.mac = Self.mac(generation, seed: seed)
    }

    /// Reads a presented token; nil for anything that is not one (never a trap, whatever the input).
    public init?(parsing text: String) {
        guard text.utf8.count <= 128, text.hasPrefix(Self.prefix),
            let bytes = Base64URL.decode(text.dropFirst(Self.prefix.count)), bytes.count == 68
        else { return nil }
        let start = bytes.startIndex
        tenantID = TenantID(UUID(bytes: bytes, at: 0))
        sessionID = UUID(bytes: bytes, at: 16)
        generation = bytes[(start + 32)..<(start + 36)].reduce(0) { $0 << 8 | UInt32($1) }
        mac = Data(bytes[(start + 36)..<(start + 68)])
    }

    /// A new random seed for a session.
    public static func newSeed() -> Data {
        SymmetricKey(size: .bits256).withUnsafeBytes { Data($0) }
    }

    /// The text handed to the client.
    public var text: String {
        var bytes = Data()
        bytes.append(contentsOf: tenantID.rawValue.bytes)
        bytes.append(contentsOf: sessionID.bytes)
        bytes.append(contentsOf: Self.bigEndian(generation))
        bytes.append(mac)
        return Self.prefix + Base64URL.encode(bytes)
    }

    /// Whether this token was issued by the session with `seed` (for its generation), in constant time.
    public func isIssued(bySeed seed: Data) -> Bool {
        constantTimeEquals(mac, Self.mac(generation, seed: seed))
    }

    private static func mac(_ generation: UInt32, seed: Data) -> Data {
        Data(HMAC<SHA256>.authenticationCode(for: bigEndian(generation), using: SymmetricKey(data: seed)))
    }

    private static func bigEndian(_ generation: UInt32) -> [UInt8] {
        [24, 16, 8, 0].map { UInt8(truncatingIfNeeded: generation >> UInt32($0)) }
    }
}
