import Crypto
import Foundation

/// A commit message reduced to what it says: trailers (`Signed-off-by:`, `Co-authored-by:`, ...) and
/// whitespace differences removed, so the same message committed twice is recognised.
public struct CommitMessage: Sendable, Equatable {
    public let normalized: String

    public init(_ message: String) {
        var paragraphs = message.components(separatedBy: "\n\n")
        // The last paragraph is dropped when every line of it is a trailer (`Token: value`).
        if paragraphs.count > 1, let last = paragraphs.last,
            last.split(separator: "\n").allSatisfy({
                $0.range(of: #"^[A-Za-z][A-Za-z0-9-]*: .+$"#, options: .regularExpression) != nil
            })
        {
            paragraphs.removeLast()
        }
        normalized = paragraphs.joined(separator: "\n\n").split(whereSeparator: \.isWhitespace).joined(separator: " ")
    }

    /// SHA-256 of the normalised message.
    public var digest: [UInt8] { Array(SHA256.hash(data: Data(normalized.utf8))) }

    /// The digest as lowercase hex.
    public var digestHex: String {
        let digits = Array("0123456789abcdef".utf8)
        return String(decoding: digest.flatMap { [digits[Int($0 >> 4)], digits[Int($0 & 15)]] }, as: UTF8.self)
    }

    /// A 64-bit SimHash over word pairs: near-identical messages differ in few bits.
    public var simhash: Int64 {
        let words = normalized.lowercased().split(separator: " ")
        let shingles = words.count < 2 ? words.map(String.init) : zip(words, words.dropFirst()).map { "\($0) \($1)" }
        var weights = [Int](repeating: 0, count: 64)
        for shingle in shingles {
            var hash: UInt64 = 0xcbf2_9ce4_8422_2325
            for byte in shingle.utf8 { hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3 }
            for bit in 0..<64 { weights[bit] += (hash >> UInt64(bit)) & 1 == 1 ? 1 : -1 }
        }
        var value: UInt64 = 0
        for bit in 0..<64 where weights[bit] > 0 { value |= 1 << UInt64(bit) }
        return Int64(bitPattern: value)
    }
}
