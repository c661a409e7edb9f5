import Foundation
import RedisClient
import Testing

/// Defect 12: the test and development Redis took no password, so any local user read every queue.
@Suite(.timeLimit(.minutes(3))) struct RedisTests {
    @Test func redisRefusesAClientWithoutThePassword() async throws {
        let url = try TestEnvironment.configuration.redis.url
        let components = try #require(URLComponents(string: url))
        #expect(components.password?.isEmpty == false, "the test Redis has no password")
        let anonymous = try RedisClient(url: "redis://\(components.host ?? "127.0.0.1"):\(components.port ?? 6379)")
        await #expect {
            try await anonymous.ping()
        } throws: { error in
            if case .server(let message) = error as? RedisError { return message.hasPrefix("NOAUTH") }
            return false
        }
        try await RedisClient(url: url).ping()
    }

    @Test func aCallMayWaitLongerThanTheDefaultTimeout() async throws {
        let redis = try RedisClient(
            url: try TestEnvironment.configuration.redis.url, defaultTimeout: .milliseconds(200))
        let key = "test:blpop:\(UUID())"
        let started = ContinuousClock.now
        let reply = try await redis.command(["BLPOP", key, "1"], timeout: .seconds(3))
        #expect(reply == .null)
        #expect(ContinuousClock.now - started >= .milliseconds(900))
        await #expect(throws: RedisError.self) { try await redis.command(["BLPOP", key, "1"]) }
    }
}

@Suite(.timeLimit(.minutes(3))) struct RedisArgumentTests {
    /// An empty argument once meant a force-unwrapped nil pointer; now it is just an empty string.
    @Test func emptyArgumentsAndValuesRoundTrip() async throws {
        let redis = try RedisClient(url: try TestEnvironment.configuration.redis.url)
        let key = "test:empty:\(UUID())"
        try await redis.command(["SET", key, ""])
        #expect(try await redis.command(["GET", key]) == .bulk([]))
        try await redis.command(["DEL", key])
        await #expect(throws: RedisError.self) { try await redis.command([]) }
    }
}
