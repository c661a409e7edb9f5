import Crypto
import Foundation
import Persistence

/// The bearer secret of one invitation: `cpinv_` and the base64url of the tenant id, the invitation id
/// and 32 random bytes. The ids let acceptance find the row inside its tenant before anyone is signed
/// in; only the SHA-256 of the random part is stored, compared in constant time.
public struct InvitationToken: Sendable, Equatable {
    public let tenantID: TenantID
    public let invitationID: UUID
    let secret: Data

    static let prefix = "cpinv_"

    /// A new token for this invitation.
    public static func generate(tenantID: TenantID, invitationID: UUID) -> InvitationToken {
        InvitationToken(
            tenantID: tenantID, invitationID: invitationID,
            secret: SymmetricKey(size: .bits256).withUnsafeBytes { Data($0) })
    }

    /// Reads a presented token; nil for anything that is not one (never a trap, whatever the input).
    public init?(parsing text: String) {
        guard text.utf8.count <= 128, text.hasPrefix(Self.prefix),
            let bytes = Base64URL.decode(text.dropFirst(Self.prefix.count)), bytes.count == 64
        else { return nil }
        self.init(
            tenantID: TenantID(UUID(bytes: bytes, at: 0)), invitationID: UUID(bytes: bytes, at: 16),
            secret: bytes.subdata(in: (bytes.startIndex + 32)..<(bytes.startIndex + 64)))
    }

    init(tenantID: TenantID, invitationID: UUID, secret: Data) {
        self.tenantID = tenantID
        self.invitationID = invitationID
        self.secret = secret
    }

    /// The text handed to the invitee.
    public var text: String {
        var bytes = Data()
        bytes.append(contentsOf: tenantID.rawValue.bytes)
        bytes.append(contentsOf: invitationID.bytes)
        bytes.append(secret)
        return Self.prefix + Base64URL.encode(bytes)
    }

    /// What is stored: the SHA-256 of the random part.
    public var secretHash: Data { Data(SHA256.hash(data: secret)) }

    /// Whether this token's secret is the one whose hash was stored.
    public func matches(storedHash: Data) -> Bool {
        constantTimeEquals(secretHash, storedHash)
    }
}
