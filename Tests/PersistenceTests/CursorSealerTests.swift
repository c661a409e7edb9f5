import Crypto
import Foundation
import Persistence
import Testing

@Suite(.timeLimit(.minutes(3))) struct CursorSealerTests {
    let sealer = CursorSealer(box: SecretBox(key: SymmetricKey(size: .bits256)))

    @Test func aSealedCursorOpensOnlyInItsOwnList() throws {
        let cursor = PageCursor(time: .init(timeIntervalSince1970: 1_795_000_000.123456), id: "42")
        let text = sealer.seal(cursor, list: "keys:a")
        let opened = try #require(sealer.open(text, list: "keys:a"))
        #expect(opened.id == "42")
        #expect(abs(opened.time.timeIntervalSince1970 - 1_795_000_000.123456) < 0.000_01)
        #expect(sealer.open(text, list: "keys:b") == nil)
        #expect(sealer.open(text, list: "audit:a") == nil)
        let otherKey = CursorSealer(box: SecretBox(key: SymmetricKey(size: .bits256)))
        #expect(otherKey.open(text, list: "keys:a") == nil)
    }

    /// The cursor that trapped the process: base64url of `-9223372036854775808|x`, and its relatives.
    @Test(arguments: [
        "LTkyMjMzNzIwMzY4NTQ3NzU4MDh8eA", "OTIyMzM3MjAzNjg1NDc3NTgwN3x4", "LTF8eA", "%%%", "bm8tYmFy", "",
        String(repeating: "A", count: 600), "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA",
    ])
    func forgedCursorsAreRefused(text: String) {
        #expect(sealer.open(text, list: "keys:a") == nil)
    }

    @Test func everyBitFlipIsRefused() throws {
        let text = sealer.seal(PageCursor(time: Date(), id: UUID().uuidString), list: "l")
        var bytes = try #require(Base64URL.decode(Substring(text)))
        for index in bytes.indices {
            bytes[index] ^= 0x01
            #expect(sealer.open(Base64URL.encode(bytes), list: "l") == nil)
            bytes[index] ^= 0x01
        }
        #expect(sealer.open(Base64URL.encode(bytes), list: "l") != nil)
    }

    @Test func timesOutsideTheRangeAreClampedWhenSealed() throws {
        for time in [
            Date.distantPast, .distantFuture, Date(timeIntervalSince1970: -1e18), Date(timeIntervalSince1970: .nan),
            Date(timeIntervalSince1970: .infinity),
        ] {
            let opened = try #require(sealer.open(sealer.seal(PageCursor(time: time, id: "x"), list: "l"), list: "l"))
            #expect(opened.time.timeIntervalSince1970 >= 0)
        }
    }
}
