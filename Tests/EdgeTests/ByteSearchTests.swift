import NIOCore
import Testing

@testable import Edge

/// The edge's body scans: a byte string anywhere in a buffer, including where a partial match comes
/// first, at either end, and not at all, and in a 6 MiB body (the bulk limit's size).
@Suite struct ByteSearchTests {
    @Test(arguments: [
        ("null", "null", true), ("{\"a\":null}", "null", true), ("nunull", "null", true), ("nul", "null", false),
        ("", "null", false), ("x", "", true), (#"{"a":"\u0000"}"#, #"\u0000"#, true),
        (#"{"a":"\u0001\u000"}"#, #"\u0000"#, false), ("nnnnnnnull", "null", true), ("nulL", "null", false),
    ])
    func findsTheBytesWhereverTheyAre(haystack: String, needle: String, found: Bool) {
        #expect(ByteSearch.contains(needle, in: ByteBuffer(string: haystack)) == found)
    }

    @Test func aBodyOfTheBulkLimitsSizeIsScannedToItsEnd() {
        var buffer = ByteBuffer(string: String(repeating: #"{"n":"nul\u00fc","u":"\u000a"},"#, count: 200_000))
        buffer.writeString("null")
        #expect(ByteSearch.contains("null", in: buffer))
        #expect(!ByteSearch.contains(#"\u0000"#, in: buffer))
    }

    @Test func aSliceIsSearchedOnlyWithinItsReadableBytes() {
        var buffer = ByteBuffer(string: "nullabc")
        buffer.moveReaderIndex(forwardBy: 1)
        #expect(!ByteSearch.contains("null", in: buffer))
        #expect(ByteSearch.contains("ull", in: buffer))
    }
}
