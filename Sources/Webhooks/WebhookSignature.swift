import Crypto
import Foundation

/// GitHub's `X-Hub-Signature-256`: `sha256=` and the lowercase hex HMAC-SHA256 of the body's exact bytes
/// keyed with the endpoint's secret. Checked before the body is parsed, in constant time.
public enum WebhookSignature {
    static let prefix = Array("sha256=".utf8)

    /// The bytes hashed between two turns given to other tasks: about 0.5 ms of work at SHA-NI speed.
    static let sliceBytes = 1 << 20

    /// Whether `header` is a valid signature of `body` under any of `secrets` (the current secret and,
    /// during a rotation's grace period, the previous one). Every secret is tried, so the time taken does
    /// not tell which one matched; the MAC comparison itself is constant-time. The body is hashed a slice
    /// at a time with a yield between slices, so a 25 MiB delivery never holds a thread of the
    /// cooperative executor (as many as cores, shared by every tenant) for more than one slice.
    public static func isValid(header: String?, body: [UInt8], secrets: [[UInt8]]) async -> Bool {
        guard let header, let mac = decode(header) else { return false }
        var valid = false
        for secret in secrets where !secret.isEmpty {
            var code = HMAC<SHA256>(key: SymmetricKey(data: secret))
            var start = body.startIndex
            while start < body.endIndex {
                let end = min(start + sliceBytes, body.endIndex)
                code.update(data: body[start..<end])
                start = end
                if start < body.endIndex { await Task.yield() }
            }
            if code.finalize() == mac { valid = true }
        }
        return valid
    }

    /// Whether `header` has the form of a signature (`sha256=` and 64 hex digits); one that does not
    /// verifies no body, so a delivery without one can be refused before its body is read.
    public static func isWellFormed(_ header: String?) -> Bool {
        header.flatMap(decode) != nil
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
