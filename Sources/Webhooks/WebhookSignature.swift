import Crypto
import Foundation

/// GitHub's `X-Hub-Signature-256`: `sha256=` and the lowercase hex HMAC-SHA256 of the body's exact bytes
/// keyed with the endpoint's secret. Checked before the body is parsed, in constant time.
public enum WebhookSignature {
    static let prefix = Array("sha256=".utf8)

    /// Whether `header` is a valid signature of `body` under any of `secrets` (the current secret and,
    /// during a rotation's grace period, the previous one). Every secret is tried, so the time taken does
    /// not tell which one matched; the MAC comparison itself is constant-time.
    public static func isValid(header: String?, body: some DataProtocol, secrets: [[UInt8]]) -> Bool {
        guard let header, let mac = decode(header) else { return false }
        var valid = false
        for secret in secrets where !secret.isEmpty {
            let key = SymmetricKey(data: secret)
            if HMAC<SHA256>.isValidAuthenticationCode(mac, authenticating: body, using: key) { valid = true }
        }
        return valid
    }

    /// The header GitHub would send for `body` signed with `secret`.
    public static func header(for body: some DataProtocol, secret: [UInt8]) -> String {
        let mac = HMAC<SHA256>.authenticationCode(for: body, using: SymmetricKey(data: secret))
        return "sha256=" + mac.map { String(format: "%02x", $0) }.joined()
    }

    /// The 32 MAC bytes of `sha256=<64 hex digits>`; nil for anything else (`sha1=`, wrong length, a
    /// non-hex character, surrounding spaces).
    static func decode(_ header: String) -> [UInt8]? {
        let bytes = Array(header.utf8)
        guard bytes.count == prefix.count + 64, bytes.starts(with: prefix) else { return nil }
        var mac = [UInt8]()
        mac.reserveCapacity(32)
        var index = prefix.count
        while index < bytes.count {
            guard let high = nibble(bytes[index]), let low = nibble(bytes[index + 1]) else { return nil }
            mac.append(high << 4 | low)
            index += 2
        }
        return mac
    }

    private static func nibble(_ character: UInt8) -> UInt8? {
        switch character {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): character - UInt8(ascii: "0")
        case UInt8(ascii: "a")...UInt8(ascii: "f"): character - UInt8(ascii: "a") + 10
        case UInt8(ascii: "A")...UInt8(ascii: "F"): character - UInt8(ascii: "A") + 10
        default: nil
        }
    }
}
