import Auth
import Foundation
import Testing

/// The cache of checked signatures stays within its capacity however many tokens are in use, keeps the
/// tokens in use (a hit in the older generation moves forward), drops the ones not seen for a generation,
/// and, past its capacity, costs a miss rather than a scan.
@Suite struct VerifiedTokenCacheTests {
    static func claims(_ jti: String) -> Claims {
        Claims(iss: "iss", aud: "aud", sub: "s", jti: jti, tid: nil, scp: [], iat: 0, nbf: 0, exp: 1, kind: .apiKey)
    }

    @Test func itStaysBoundedAndKeepsTheTokensInUse() {
        let cache = VerifiedTokenCache(capacity: 100)
        cache.store(Self.claims("hot"), kid: "k1", for: "hot")
        for index in 0..<1_000 {
            cache.store(Self.claims("t\(index)"), kid: "k1", for: "t\(index)")
            // The token in use is looked up now and then; it never falls out.
            if index % 40 == 0 { #expect(cache.entry(for: "hot")?.claims.jti == "hot", "at \(index)") }
            #expect(cache.count <= 100)
        }
        #expect(cache.entry(for: "t0") == nil, "not seen for a generation: dropped")
        #expect(cache.entry(for: "t999")?.kid == "k1")
        #expect(cache.entry(for: "hot") != nil)
    }

    @Test func tenThousandTokensInUseFitTheDefaultCapacity() {
        let cache = VerifiedTokenCache()
        for index in 0..<10_000 { cache.store(Self.claims("t\(index)"), kid: "k", for: "t\(index)") }
        for round in 0..<3 {
            for index in stride(from: 0, to: 10_000, by: 7) {
                #expect(cache.entry(for: "t\(index)") != nil, "round \(round), token \(index)")
            }
        }
    }
}
