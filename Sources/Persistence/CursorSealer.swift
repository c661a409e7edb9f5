import Crypto
import Foundation

/// Makes page cursors opaque and tamper-evident: a cursor is base64url of its position and an
/// HMAC-SHA256 tag (key derived from the master key) over the position and the list it belongs to (e.g.
/// one tenant's keys). Anything else, a cursor of another list or tenant included, is refused.
public struct CursorSealer: Sendable {
    /// The current key first; during a master key rotation, the previous one's too.
    private let keys: [SymmetricKey]
    private static let version: UInt8 = 1
    private static let tagLength = 16
    /// Cursor texts longer than this are refused before any decoding.
    public static let maxLength = 512

    public init(box: SecretBox) {
        self.keys = box.derivedKeys(purpose: "controlplane/page-cursor/v1")
    }

    /// The text handed to clients for `cursor` in `list`.
    public func seal(_ cursor: PageCursor, list: String) -> String {
        var payload = Data([Self.version])
        withUnsafeBytes(of: cursor.micros.bigEndian) { payload.append(contentsOf: $0) }
        payload.append(contentsOf: Data(cursor.id.utf8))
        return Base64URL.encode(payload + tag(payload, list: list, key: keys[0]))
    }

    /// The cursor `text` stands for, or nil when it was not made by `seal` for `list` with this key.
    public func open(_ text: String, list: String) -> PageCursor? {
        guard !text.isEmpty, text.utf8.count <= Self.maxLength, let data = Base64URL.decode(Substring(text)),
            data.count > 1 + 8 + Self.tagLength
        else { return nil }
        let payload = data.prefix(data.count - Self.tagLength)
        let presented = data.suffix(Self.tagLength)
        let matches = keys.map { constantTimeEquals(tag(Data(payload), list: list, key: $0), Data(presented)) }
        guard matches.contains(true) else { return nil }
        let bytes = Array(payload)
        guard bytes[0] == Self.version else { return nil }
        let micros = bytes[1...8].reduce(Int64(0)) { ($0 << 8) | Int64($1) }
        guard PageCursor.microsRange.contains(micros), let id = String(bytes: bytes[9...], encoding: .utf8),
            !id.isEmpty, id.utf8.count <= 64
        else { return nil }
        return PageCursor(time: Date(timeIntervalSince1970: Double(micros) / 1_000_000), id: id)
    }

    private func tag(_ payload: Data, list: String, key: SymmetricKey) -> Data {
        Data(HMAC<SHA256>.authenticationCode(for: Data(list.utf8) + Data([0]) + payload, using: key)).prefix(
            Self.tagLength)
    }
}

/// Compares two byte strings in time that depends only on their lengths.
public func constantTimeEquals(_ lhs: Data, _ rhs: Data) -> Bool {
    guard lhs.count == rhs.count else { return false }
    var difference: UInt8 = 0
    for (left, right) in zip(lhs, rhs) { difference |= left ^ right }
    return difference == 0
}
