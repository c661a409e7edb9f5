import AsyncHTTPClient
import Billing
import BlockingWork
import Foundation
import NIOCore
import Persistence
import PostgresNIO
import TestKit
import Testing

/// A server killed (SIGKILL, no chance to clean up) with calls in flight leaves their reservations
/// behind; the sweeper releases them once their lifetime has passed, and the counters reconcile.
@Suite(.timeLimit(.minutes(3))) struct KilledServerTests {
    static let binary = ".build/debug/controlplane"
    /// Long enough that no other application's housekeeping sweeps them before they are looked at, on a
    /// loaded machine too, and longer than the longest call the policy below allows (one attempt of 8 s,
    /// plus ten seconds), so this lifetime is the one reservations get.
    static let lifetime = 20

    @Test(.enabled(if: FileManager.default.isExecutableFile(atPath: binary)))
    func aKilledServersReservationsAreSweptAfterTheirLifetime() async throws {
        let fake = FakeProviderServer()
        try await fake.run { upstream in
            let port = unusedLoopbackPort()
            let process = Process()
            process.executableURL = URL(fileURLWithPath: Self.binary)
            process.arguments = ["serve"]
            var environment = try await TestEnvironment.childEnvironment()
            environment["CP_HTTP_PORT"] = String(port)
            environment["CP_LOG_LEVEL"] = "error"
            environment["CP_OPENAI_BASE_URL"] = "http://127.0.0.1:\(upstream)/v1"
            environment["CP_OPENAI_API_KEY"] = "sk-test"
            environment["CP_RESERVATION_TTL_SECONDS"] = String(Self.lifetime)
            environment["CP_PROVIDER_ATTEMPTS"] = "1"
            // Reruns against one database must not meet the signup throttle of 127.0.0.1.
            environment["CP_SIGNUPS_PER_HOUR_PER_ADDRESS"] = "1000000"
            process.environment = environment
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle.nullDevice
            try process.run()
            defer { if process.isRunning { kill(process.processIdentifier, SIGKILL) } }

            let client = HTTPClient(eventLoopGroupProvider: .singleton)
            defer { _ = client.shutdown() }
            let base = "http://127.0.0.1:\(port)"
            try await Self.waitForHealth(client, base)
            let slug = uniqueSlug("kill")
            let signup = try await Self.send(
                client, "POST", "\(base)/v1/signup", token: nil,
                json: [
                    "organization_name": "Killed", "slug": slug, "admin_email": "\(slug)@example.test",
                    "admin_password": "correct horse battery",
                ])
            let token = try #require((signup["api_key"] as? [String: Any])?["token"] as? String)
            let tenantText = (signup["tenant"] as? [String: Any])?["id"] as? String ?? ""
            let tenantID = try #require(TenantID(string: tenantText))
            _ = try await Self.send(
                client, "PUT", "\(base)/v1/policy", token: token,
                json: [
                    "routes": [
                        "default": [["provider": "openai", "model": "hang", "max_tokens": 500, "timeout_ms": 8_000]]
                    ],
                    "max_tokens_per_request": 4096, "max_llm_requests_per_hour": 1000,
                    "cache": ["enabled": false, "ttl_seconds": 60],
                ])

            // Five calls to an upstream that answers after 20 s (they give up at 8 s); the server dies while
            // they wait.
            for _ in 0..<5 {
                Task {
                    _ = try? await Self.send(
                        client, "POST", "\(base)/v1/llm/chat/completions", token: token,
                        json: ["model": "auto", "messages": [["role": "user", "content": "hi"]]])
                }
            }
            let started = ContinuousClock.now
            let held = try await waitUntil(timeout: .seconds(5)) { try await Self.reserved(tenantID) >= 5 * 500 }
            #expect(held != nil, "the calls reserved their worst case")
            kill(process.processIdentifier, SIGKILL)
            // Waits without blocking a thread that runs tasks.
            while process.isRunning { try await Pause.for(.milliseconds(20)) }
            #expect(try await Self.reserved(tenantID) >= 5 * 500, "a killed server releases nothing itself")

            // After the lifetime, the sweeper (any replica's housekeeping) releases them.
            try await Pause.until(started + .seconds(Self.lifetime + 1))
            // (Another test's application may sweep them first; either way they must be gone.)
            _ = try await TestEnvironment.withDatabase { pool in
                try await TokenBudget(
                    database: Database(client: pool, logger: TestEnvironment.logger),
                    reservationLifetime: .seconds(Self.lifetime)
                ).sweepExpired()
            }
            #expect(try await Self.reserved(tenantID) == 0)
            #expect(try await Gateway.discrepancies(tenantID.description) == 0)
        }
    }

    static func reserved(_ tenantID: TenantID) async throws -> Int64 {
        try await TestEnvironment.withDatabase { pool in
            try await Database(client: pool, logger: TestEnvironment.logger).withTenant(tenantID) { transaction in
                var total: Int64 = 0
                for try await value in try await transaction.query(
                    "SELECT COALESCE(sum(reserved), 0)::bigint FROM budget_periods"
                ).decode(Int64.self) {
                    total = value
                }
                return total
            }
        }
    }

    static func send(_ client: HTTPClient, _ method: String, _ url: String, token: String?, json: [String: Any])
        async throws -> [String: Any]
    {
        var request = HTTPClientRequest(url: url)
        request.method = .RAW(value: method)
        request.headers.add(name: "Content-Type", value: "application/json")
        if let token { request.headers.add(name: "Authorization", value: "Bearer \(token)") }
        request.body = .bytes(ByteBuffer(bytes: try JSONSerialization.data(withJSONObject: json)))
        let response = try await client.execute(request, timeout: .seconds(30))
        let body = try await response.body.collect(upTo: 1 << 20)
        return (try? JSONSerialization.jsonObject(with: Data(buffer: body)) as? [String: Any]) ?? [:]
    }

    static func waitForHealth(_ client: HTTPClient, _ base: String) async throws {
        for _ in 0..<300 {
            if let response = try? await client.execute(
                HTTPClientRequest(url: "\(base)/healthz"), timeout: .seconds(1)),
                response.status == .ok
            {
                return
            }
            try await Pause.for(.milliseconds(100))
        }
        throw ServerDidNotStart()
    }

    struct ServerDidNotStart: Error {}
}
