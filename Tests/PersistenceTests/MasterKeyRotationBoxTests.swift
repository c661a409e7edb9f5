import Crypto
import Foundation
import Persistence
import Testing

/// During a master key rotation the box seals with the new key and opens with either; what the old
/// key tagged (cursors, idempotency fingerprints) still verifies; without the old key it does not.
@Suite(.timeLimit(.minutes(3))) struct MasterKeyRotationBoxTests {
    let old = SymmetricKey(size: .bits256)
    let new = SymmetricKey(size: .bits256)

    @Test func valuesSealedWithEitherKeyOpenDuringARotation() throws {
        let before = SecretBox(key: old)
        let during = SecretBox(key: new, previous: old)
        let after = SecretBox(key: new)
        let sealedBefore = try before.seal(Data("secret".utf8), context: "row:1")
        #expect(try during.openReportingKey(sealedBefore, context: "row:1").key == .previous)
        #expect(try during.open(sealedBefore, context: "row:1") == Data("secret".utf8))
        #expect(throws: (any Error).self) { try during.open(sealedBefore, context: "row:2") }
        #expect(throws: (any Error).self) { try after.open(sealedBefore, context: "row:1") }

        let sealedDuring = try during.seal(Data("secret".utf8), context: "row:1")
        #expect(try during.openReportingKey(sealedDuring, context: "row:1").key == .current)
        #expect(try after.open(sealedDuring, context: "row:1") == Data("secret".utf8))
        #expect(throws: (any Error).self) { try before.open(sealedDuring, context: "row:1") }
        #expect(during.hasPreviousKey && !after.hasPreviousKey)
    }

    @Test func cursorsAndFingerprintsFromBeforeStillVerify() throws {
        let before = SecretBox(key: old)
        let during = SecretBox(key: new, previous: old)
        let after = SecretBox(key: new)
        let cursor = PageCursor(time: Date(timeIntervalSince1970: 1_795_000_000), id: "7")
        let text = CursorSealer(box: before).seal(cursor, list: "jobs:a")
        #expect(CursorSealer(box: during).open(text, list: "jobs:a")?.id == "7")
        #expect(CursorSealer(box: after).open(text, list: "jobs:a") == nil)

        let body = Data(#"{"name":"ci"}"#.utf8)
        let stored = IdempotencyStore(box: before).fingerprint(operation: "createKey", canonicalBody: body)
        let now = IdempotencyStore(box: during).fingerprints(operation: "createKey", canonicalBody: body)
        #expect(now.count == 2 && now[1] == stored && now[0] != stored)
        #expect(IdempotencyStore(box: after).fingerprints(operation: "createKey", canonicalBody: body) == [now[0]])
    }

    @Test func aMalformedPreviousKeyIsRefused() {
        let valid = Data(repeating: 7, count: 32).base64EncodedString()
        #expect(throws: SecretBox.KeyError.self) { try SecretBox(base64MasterKey: valid, previous: "not-base64") }
        #expect(throws: SecretBox.KeyError.self) {
            try SecretBox(base64MasterKey: valid, previous: Data(repeating: 1, count: 16).base64EncodedString())
        }
        #expect((try? SecretBox(base64MasterKey: valid, previous: ""))?.hasPreviousKey == false)
    }
}
