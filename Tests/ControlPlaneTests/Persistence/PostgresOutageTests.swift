import BlockingWork
import Foundation
import HummingbirdTesting
import Synchronization
import TestKit
import Testing

/// Postgres restarted (fast and immediate) and unreachable for 30 s under a running server: no trap
/// (postgres-nio 1.33.2's pool trapped on a restart), 503 problems with `Retry-After` and a `/readyz`
/// that says so while it is away, and the same process serving again within 5 s of its return. The
/// restarts use a Postgres cluster of their own (`start_outage_postgres` in `scripts/lib/services.sh`), so
/// the tests on the shared one never see them.
/// (Outside `scripts/test`, the suite is skipped unless that cluster is configured.)
@Suite(.serialized, .timeLimit(.minutes(4)), .enabled(if: OutagePostgres.fromEnvironment != nil))
struct PostgresOutageTests {
    @Test(arguments: ["fast", "immediate"]) func aRestartIsSurvived(mode: String) async throws {
        let postgres = try #require(OutagePostgres.fromEnvironment)
        try await postgres.withApp { client in
            let tenant = try await client.signup()
            let load = ReadLoad(client: client, token: tenant.token)
            try await load.during {
                try await Pause.for(.milliseconds(500))
                #expect(try await postgres.pgCtl(["restart", "-m", mode, "-w", "-t", "60"]) == 0)
            }
            let back = try await waitUntil(timeout: .seconds(5)) {
                try await client.send(.get, "/v1/tenant", token: tenant.token).status == .ok
            }
            #expect(back != nil, "not serving 5 s after Postgres was back")
            load.expectOnly200Or503()
            #expect(try await client.send(.get, "/readyz").status == .ok)
        }
    }

    @Test func unreachableForThirtySecondsThenBack() async throws {
        let postgres = try #require(OutagePostgres.fromEnvironment)
        let proxy = try await FreezableProxy.start(targetPort: postgres.port)
        try await postgres.withApp(through: proxy.port) { client in
            let tenant = try await client.signup()
            proxy.freeze()
            // While every packet is dropped, each answer still comes within a bound, and it is a 503.
            let started = ContinuousClock.now
            var sawUnavailable = false
            while ContinuousClock.now - started < .seconds(30) {
                let asked = ContinuousClock.now
                let response = try await client.send(.get, "/v1/tenant", token: tenant.token)
                #expect(ContinuousClock.now - asked < .seconds(10), "an answer took \(ContinuousClock.now - asked)")
                if response.status.code == 503 {
                    sawUnavailable = true
                    try response.expectProblem(503, "unavailable")
                    #expect(response.headers[.retryAfter] != nil)
                } else {
                    #expect(response.status == .ok, "while unreachable: \(response.status)")
                }
                try await Pause.for(.milliseconds(500))
            }
            #expect(sawUnavailable)
            #expect(try await client.send(.get, "/readyz").status.code == 503)
            proxy.thaw()
            let back = try await waitUntil(timeout: .seconds(5)) {
                try await client.send(.get, "/v1/tenant", token: tenant.token).status == .ok
            }
            #expect(back != nil, "not serving 5 s after Postgres was reachable again")
        }
    }
}

extension PostgresOutageTests {
    /// A server started while Postgres is down does not exit: it answers 503 with `Retry-After`, says it
    /// is not ready, and serves within 5 s of Postgres starting (a cluster that starts all at once, or a
    /// crash loop whose backoff would outlast the outage).
    @Test func startedWhilePostgresIsDownThenServes() async throws {
        let postgres = try #require(OutagePostgres.fromEnvironment)
        #expect(try await postgres.pgCtl(["stop", "-m", "fast", "-w", "-t", "60"]) == 0)
        do {
            try await postgres.withApp { client in
                #expect(try await client.send(.get, "/healthz").status == .ok)
                let ready = try await client.send(.get, "/readyz")
                try ready.expectProblem(503, "unavailable")
                let signup = try await client.signupResponse()
                try signup.expectProblem(503, "unavailable")
                #expect(signup.headers[.retryAfter] != nil)
                #expect(try await postgres.start() == 0)
                let back = try await waitUntil(timeout: .seconds(5)) {
                    try await client.send(.get, "/readyz").status == .ok
                }
                #expect(back != nil, "not ready 5 s after Postgres started")
                _ = try await client.signup()
            }
        } catch {
            // Leave the cluster running for the other tests of the suite, whatever failed.
            _ = try? await postgres.start()
            throw error
        }
    }
}

/// The second Postgres cluster `scripts/test` starts for these tests, and `pg_ctl` on it.
struct OutagePostgres: Sendable {
    let url: String
    let ownerURL: String
    let cluster: String
    let bindir: String
    let port: Int

    static var fromEnvironment: OutagePostgres? {
        let environment = ProcessInfo.processInfo.environment
        guard let url = environment["CP_OUTAGE_DATABASE_URL"],
            let owner = environment["CP_OUTAGE_MIGRATION_DATABASE_URL"],
            let cluster = environment["CP_OUTAGE_POSTGRES_CLUSTER"], let bindir = environment["CP_POSTGRES_BINDIR"],
            let port = URLComponents(string: url)?.port
        else { return nil }
        return OutagePostgres(url: url, ownerURL: owner, cluster: cluster, bindir: bindir, port: port)
    }

    /// Runs `pg_ctl` on the cluster (as its owner when the tests run as root).
    func pgCtl(_ arguments: [String]) async throws -> Int32 {
        let command = ["\(bindir)/pg_ctl", "-D", cluster, "-l", "\(cluster)/server.log"] + arguments
        return try await ChildProcess.run(getuid() == 0 ? ["runuser", "-u", "postgres", "--"] + command : command)
    }

    /// Starts the stopped cluster as `start_outage_postgres` did (a plain `pg_ctl start` would forget the
    /// port and socket folder it was given; `restart` remembers them).
    func start() async throws -> Int32 {
        try await pgCtl([
            "start", "-w", "-t", "60", "-o",
            "-c listen_addresses=127.0.0.1 -p \(port) -k \(cluster) -c max_connections=100",
        ])
    }

    /// A fresh application on this cluster (through `port` instead, when given), probing its pool often.
    func withApp(through port: Int? = nil, _ body: @Sendable (any TestClientProtocol) async throws -> Void)
        async throws
    {
        let url = port.map { self.url.replacingOccurrences(of: ":\(self.port)/", with: ":\($0)/") } ?? self.url
        try await TestEnvironment.withApp(configure: {
            $0.database.url = url
            $0.database.listenerURL = url
            $0.database.migrationURL = ownerURL
            $0.database.reconnectInterval = .milliseconds(250)
            $0.database.probeTimeout = .seconds(1)
            $0.database.statementTimeout = .seconds(10)
        }) { try await body($0) }
    }
}

/// Four readers of `GET /v1/tenant` in a loop, remembering every status, for the length of an outage.
final class ReadLoad: Sendable {
    private let client: any TestClientProtocol
    private let token: String
    private let seen = Mutex<[Int: Int]>([:])
    private let problems = Mutex<[String]>([])

    init(client: any TestClientProtocol, token: String) {
        self.client = client
        self.token = token
    }

    /// Runs the readers while `outage` runs, and a little after.
    func during(_ outage: @Sendable () async throws -> Void) async throws {
        let stop = Shared(false)
        try await withThrowingTaskGroup(of: Void.self) { group in
            for _ in 0..<4 {
                group.addTask {
                    var reads = 0
                    while !stop.withLock({ $0 }), reads < 5_000 {
                        reads += 1
                        let response = try await self.client.send(.get, "/v1/tenant", token: self.token)
                        self.seen.withLock { $0[response.status.code, default: 0] += 1 }
                        if ![200, 503].contains(response.status.code) {
                            self.problems.withLock { $0.append("\(response.status): \(String(buffer: response.body))") }
                        }
                        if response.status.code == 503, response.headers[.retryAfter] == nil {
                            self.problems.withLock { $0.append("a 503 without Retry-After") }
                        }
                        if response.status.code == 503 { try await Pause.for(.milliseconds(50)) }
                    }
                }
            }
            try await outage()
            try await Pause.for(.seconds(1))
            stop.withLock { $0 = true }
            try await group.waitForAll()
        }
    }

    /// Every answer was 200 or 503, and every 503 carried `Retry-After`.
    func expectOnly200Or503(sourceLocation: SourceLocation = #_sourceLocation) {
        let statuses = seen.withLock { $0 }
        #expect(
            Set(statuses.keys).isSubset(of: [200, 503]), "statuses seen: \(statuses)", sourceLocation: sourceLocation)
        #expect(statuses[200, default: 0] > 0, sourceLocation: sourceLocation)
        let problems = problems.withLock { $0 }
        #expect(problems.isEmpty, "\(problems.prefix(3))", sourceLocation: sourceLocation)
    }
}
