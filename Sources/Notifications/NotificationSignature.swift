import Crypto
import Foundation

/// Standard Webhooks signing: a secret is `whsec_` and the Base64 of 32 random bytes; a message is
/// signed as `v1,` and the Base64 HMAC-SHA256, under those bytes, of `id.timestamp.body`.
public enum NotificationSignature {
    static let prefix = "whsec_"

    /// A new secret in its shown form.
    public static func newSecret() -> String {
        prefix + SymmetricKey(size: .bits256).withUnsafeBytes { Data($0).base64EncodedString() }
    }

    /// The key bytes of a secret in its shown form; nil for anything else.
    public static func key(_ secret: String) -> SymmetricKey? {
        guard secret.hasPrefix(prefix), let bytes = Data(base64Encoded: String(secret.dropFirst(prefix.count))),
            !bytes.isEmpty
        else { return nil }
        return SymmetricKey(data: bytes)
    }

    /// The `webhook-signature` header value of `body` sent as message `id` at `timestamp` (Unix seconds).
    public static func header(id: String, timestamp: Int, body: [UInt8], key: SymmetricKey) -> String {
        var message = Array("\(id).\(timestamp).".utf8)
        message.append(contentsOf: body)
        let mac = HMAC<SHA256>.authenticationCode(for: message, using: key)
        return "v1," + Data(mac).base64EncodedString()
    }
}
