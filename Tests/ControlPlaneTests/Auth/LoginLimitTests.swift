import Billing
import Foundation
import HTTPTypes
import HummingbirdTesting
import Persistence
import PostgresNIO
import Testing

@testable import ControlPlane
@testable import Edge

/// Defects 3 and 4: the client address came from the leftmost `X-Forwarded-For` entry, and login was a
/// CPU sink limited only per email, hashing on a pool shared with Redis.
@Suite(.timeLimit(.minutes(3))) struct LoginLimitTests {
    static func wrongLogin(_ client: some TestClientProtocol, forwardedFor: String? = nil) async throws -> TestResponse
    {
        var headers: HTTPFields = [:]
        if let forwardedFor { headers[HTTPField.Name("X-Forwarded-For")!] = forwardedFor }
        return try await client.send(
            .post, "/v1/auth/login", json: ["email": "nobody-\(UUID())@example.test", "password": "wrong password!!"],
            headers: headers)
    }

    @Test func loginIsLimitedPerClientAddressWhateverEmailIsTried() async throws {
        try await TestEnvironment.withApp(
            .live,
            configure: {
                $0.auth.loginAttemptsPerMinutePerAddress = 3
                $0.http.trustedProxies = ["127.0.0.1"]
            }
        ) { client in
            let address = "203.0.113.\(Int.random(in: 1...254))"
            var statuses: [Int] = []
            for attempt in 0..<4 {
                statuses.append(
                    try await Self.wrongLogin(client, forwardedFor: "10.9.9.\(attempt), \(address)").status.code)
            }
            #expect(statuses == [401, 401, 401, 429])
            // Another address is not affected.
            #expect(try await Self.wrongLogin(client, forwardedFor: "203.0.113.255").status == .unauthorized)
        }
    }

    /// Past its limit an address is refused from the replica's memory until its window ends: a flood of
    /// refused attempts costs no round trip (the window's count stops at the first refusal).
    @Test func refusedAttemptsAreAnsweredWithoutTheDatabase() async throws {
        try await TestEnvironment.withApp(
            .live,
            configure: {
                $0.auth.loginAttemptsPerMinutePerAddress = 2
                $0.http.trustedProxies = ["127.0.0.1"]
            }
        ) { client in
            let address = "198.51.100.\(Int.random(in: 1...254))"
            var statuses: [Int] = []
            for _ in 0..<12 {
                let answer = try await Self.wrongLogin(client, forwardedFor: address)
                statuses.append(answer.status.code)
                if answer.status == .tooManyRequests {
                    try answer.expectProblem(429, "rate_limited")
                    #expect((1...60).contains(Int(answer.headers[.retryAfter] ?? "") ?? 0))
                }
            }
            #expect(statuses == [401, 401] + Array(repeating: 429, count: 10))
            let throttle = FixedWindowThrottle(scope: "login-address", limit: 2, window: .seconds(60))
            let hits = try await TestEnvironment.withDatabase { database in
                var hits = -1
                for try await value in try await database.query(
                    "SELECT hits FROM throttle_windows WHERE scope = 'login-address' AND subject_hash = \(throttle.digest(address))"
                ).decode(Int.self) {
                    hits = value
                }
                return hits
            }
            #expect(hits == 3, "the database counted \(hits) attempts")
            // A refresh from the same address is refused from memory too.
            let refresh = try await client.send(
                .post, "/v1/auth/refresh", json: ["refresh_token": "rt_" + String(repeating: "a", count: 43)],
                headers: [HTTPField.Name("X-Forwarded-For")!: address])
            #expect(refresh.status == .tooManyRequests)
        }
    }

    @Test func loginIsLimitedAcrossThePlatform() async throws {
        try await TestEnvironment.withApp(configure: { $0.auth.loginAttemptsPerMinute = 1 }) { client in
            _ = try await Self.wrongLogin(client)
            // The platform-wide minute is shared with every other test's logins, so it can end between two
            // attempts (then the second opens the next minute); it cannot end twice within seconds.
            var refused = try await Self.wrongLogin(client)
            if refused.status != .tooManyRequests { refused = try await Self.wrongLogin(client) }
            try refused.expectProblem(429, "rate_limited")
            #expect(Int(refused.headers[.retryAfter] ?? "") ?? 0 > 0)
        }
    }

    /// With one hashing thread and no queue, concurrent logins beyond it answer 503 with Retry-After at
    /// once instead of queueing on the thread pool.
    @Test func aFullHashingPoolAnswers503WithRetryAfter() async throws {
        try await TestEnvironment.withApp(configure: {
            $0.auth.argon2Threads = 1
            $0.auth.argon2QueueDepth = 0
            $0.auth.argon2MemoryKiB = 65_536
            $0.auth.argon2Iterations = 24
        }) { client in
            // Enough logins, each hashing long enough, that some overlap however loaded the machine is (a
            // loaded CI run once saw ten logins of ten iterations arrive one after the other).
            let responses = try await withThrowingTaskGroup(of: TestResponse.self) { group in
                for _ in 0..<12 { group.addTask { try await Self.wrongLogin(client) } }
                return try await group.reduce(into: [TestResponse]()) { $0.append($1) }
            }
            let busy = responses.filter { $0.status.code == 503 }
            #expect(!busy.isEmpty, "statuses: \(responses.map(\.status.code))")
            for response in busy {
                try response.expectProblem(503, "unavailable")
                #expect(response.headers[.retryAfter] == "1")
            }
            #expect(responses.allSatisfy { [401, 503].contains($0.status.code) })
        }
    }

    @Test func expiredThrottleWindowsArePruned() async throws {
        let subject = Data(UUID().uuidString.utf8)
        try await TestEnvironment.withDatabase { database in
            try await database.query(
                """
                INSERT INTO throttle_windows (scope, subject_hash, window_start, hits, expires_at)
                VALUES ('test', \(subject), now() - interval '2 hours', 3, now() - interval '1 hour')
                """)
            let db = Persistence.Database(client: database, logger: TestEnvironment.logger)
            let housekeeping = Housekeeping(
                database: db, budget: TokenBudget(database: db, reservationLifetime: .seconds(60)),
                interval: .seconds(60), logger: TestEnvironment.logger)
            try await housekeeping.prune()
            var left = 0
            for try await _ in try await database.query(
                "SELECT 1 FROM throttle_windows WHERE subject_hash = \(subject)")
            {
                left += 1
            }
            #expect(left == 0)
        }
    }
}

@Suite(.timeLimit(.minutes(3))) struct ClientAddressResolverTests {
    @Test func theRightmostUntrustedEntryIsTheClient() throws {
        let resolver = try ClientAddressResolver(trustedProxies: ["10.0.0.0/8", "127.0.0.1"], trustedHops: 0)
        #expect(
            resolver.resolve(peer: "10.1.2.3", forwardedFor: ["6.6.6.6, 198.51.100.7"])?.throttleKey == "198.51.100.7")
        #expect(
            resolver.resolve(peer: "10.1.2.3", forwardedFor: ["198.51.100.7, 10.4.4.4"])?.throttleKey == "198.51.100.7")
        // An untrusted peer is the client, whatever it forwards.
        #expect(resolver.resolve(peer: "198.51.100.9", forwardedFor: ["1.1.1.1"])?.throttleKey == "198.51.100.9")
        // Garbage ends the walk at the last good address.
        #expect(resolver.resolve(peer: "127.0.0.1", forwardedFor: ["junk"])?.throttleKey == "127.0.0.1")
    }

    @Test func hopCountsTakeThatManyEntriesFromTheRight() throws {
        let resolver = try ClientAddressResolver(trustedProxies: [], trustedHops: 2)
        #expect(
            resolver.resolve(peer: "10.0.0.1", forwardedFor: ["6.6.6.6", "198.51.100.7, 10.0.0.2"])?.throttleKey
                == "198.51.100.7")
        let none = try ClientAddressResolver(trustedProxies: [], trustedHops: 0)
        #expect(none.resolve(peer: "10.0.0.1", forwardedFor: ["198.51.100.7"])?.throttleKey == "10.0.0.1")
    }

    @Test func ipv6CountsPerSlash64AndMappedIPv4AsIPv4() throws {
        let a = try #require(IPAddress("2001:db8:1:2:aaaa::1"))
        let b = try #require(IPAddress("[2001:db8:1:2:ffff::9]:443"))
        #expect(a.throttleKey == b.throttleKey)
        #expect(a.throttleKey == "2001:db8:1:2::/64")
        #expect(IPAddress("2001:db8:1:3::1")?.throttleKey != a.throttleKey)
        #expect(IPAddress("::ffff:192.0.2.1")?.throttleKey == "192.0.2.1")
        #expect(IPAddress("not an address") == nil)
        #expect(throws: (any Error).self) { try ClientAddressResolver(trustedProxies: ["10.0.0.0/33"], trustedHops: 0) }
    }
}
