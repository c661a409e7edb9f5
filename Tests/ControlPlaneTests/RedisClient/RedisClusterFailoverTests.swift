import BlockingWork
import Foundation
import HummingbirdTesting
import RedisClient
import TestKit
import Testing

/// A master of a three-master Redis Cluster (the test's own) is killed while deliveries arrive for
/// tenants whose queues live on every master, and started again: every delivery is answered 2xx, and
/// every job made runs once the master is back, without any help.
@Suite(.timeLimit(.minutes(4))) struct RedisClusterFailoverTests {
    @Test func aMasterKilledMidIngestLosesNoAcceptedDelivery() async throws {
        let cluster = try await LocalRedisCluster.start()
        defer { cluster.stop() }
        let prefix = "cp-cluster-\(UUID().uuidString.prefix(8).lowercased())"
        try await TestEnvironment.withApp(
            worker: true,
            configure: {
                $0.redis.url = cluster.url
                $0.jobs.queuePrefix = prefix
                $0.jobs.relayInterval = .seconds(1)
                $0.jobs.rebuildsAfterLoss = true
            }
        ) { client in
            // Tenants until their queues sit on all three masters.
            var tenants: [(SignedUpTenant, CreatedEndpoint, port: Int)] = []
            var covered = Set<Int>()
            while covered.count < 3 || tenants.count < 4 {
                let tenant = try await client.signup()
                let slot = RedisClient.hashSlot(of: "t:\(tenant.tenantID)")
                let port = try #require(cluster.port(serving: slot))
                covered.insert(port)
                let endpoint = try await client.createEndpoint(token: tenant.token, pipelines: ["commitments"])
                tenants.append((tenant, endpoint, port))
            }
            // The master to kill serves some tenants' queues but not the fair-turn set, so the others go on.
            let readySlot = RedisClient.hashSlot(of: "\(prefix):ready")
            let victim = try #require(covered.first { $0 != cluster.port(serving: readySlot) })

            var accepted: [String: Int] = [:]
            for round in 0..<30 {
                if round == 10 {
                    await cluster.kill(port: victim)
                    await #expect(throws: (any Error).self, "the master is down") {
                        try await RedisClient(url: "redis://127.0.0.1:\(victim)", defaultTimeout: .milliseconds(500))
                            .ping()
                    }
                }
                if round == 20 { try await cluster.restart(port: victim) }
                let (tenant, endpoint, _) = tenants[round % tenants.count]
                let body = try GitHubFixtures.bytes(GitHubFixtures.push(commits: 1, seed: 1200 + round))
                let response = try await client.deliver(
                    endpoint.url, event: "push", body: body, secret: endpoint.secret)
                // Answered 2xx (committed first) or, were the queue refused, 503; never lost once accepted.
                #expect(
                    response.status == .accepted || response.status == .serviceUnavailable,
                    "round \(round): \(response.status)")
                if response.status == .accepted { accepted[tenant.tenantID, default: 0] += 1 }
            }
            #expect(accepted.values.reduce(0, +) >= 20)
            for (tenant, _, _) in tenants {
                let count = accepted[tenant.tenantID, default: 0]
                let jobs = try await Runtime.waitForJobs(
                    client, tenant, status: "succeeded", count: count, timeout: .seconds(90))
                #expect(
                    jobs.filter { $0["status"] as? String == "succeeded" }.count == count,
                    "tenant on \(tenants.first { $0.0.tenantID == tenant.tenantID }?.port ?? 0): \(jobs.map { $0["status"] ?? "" })"
                )
            }
        }
    }
}

/// Three Redis masters in cluster mode on loopback, with their files in a temporary folder, joined by
/// `redis-cli --cluster create`.
final class LocalRedisCluster: Sendable {
    let directory: URL
    let ports: [Int]
    private let processes: Shared<[Int: Process]>
    /// Which slots each port serves, as created.
    private let slots: [Int: ClosedRange<Int>]

    var url: String { "redis-cluster://127.0.0.1:\(ports[0])" }

    private init(directory: URL, ports: [Int], processes: [Int: Process], slots: [Int: ClosedRange<Int>]) {
        self.directory = directory
        self.ports = ports
        self.processes = Shared(processes)
        self.slots = slots
    }

    func port(serving slot: Int) -> Int? { slots.first { $0.value.contains(slot) }?.key }

    static func start() async throws -> LocalRedisCluster {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("cp-cluster-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        // Each node's port and its cluster bus port (given explicitly), all below the range of ports
        // for outgoing connections.
        let base = unusedLoopbackPort(count: 6)
        let ports = [base, base + 1, base + 2]
        var processes: [Int: Process] = [:]
        for port in ports { processes[port] = try launch(port: port, directory: directory) }
        try await Pause.for(.milliseconds(400))
        let create = Process()
        create.executableURL = URL(fileURLWithPath: "/usr/bin/redis-cli")
        create.arguments = ["--cluster", "create"] + ports.map { "127.0.0.1:\($0)" } + ["--cluster-yes"]
        create.standardOutput = FileHandle.nullDevice
        create.standardError = FileHandle.nullDevice
        try create.run()
        await ChildProcess.exit(of: create)
        let client = try RedisClient(url: "redis://127.0.0.1:\(ports[0])")
        _ = try await waitUntil(timeout: .seconds(20)) {
            (try? await client.command(["CLUSTER", "INFO"]).string)?.contains("cluster_state:ok") == true
        }
        // `--cluster create` splits the slots evenly, in port order.
        let slots = [ports[0]: 0...5460, ports[1]: 5461...10922, ports[2]: 10923...16383]
        return LocalRedisCluster(directory: directory, ports: ports, processes: processes, slots: slots)
    }

    private static func launch(port: Int, directory: URL) throws -> Process {
        let folder = directory.appendingPathComponent("\(port)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let redis = Process()
        redis.executableURL = URL(fileURLWithPath: "/usr/bin/redis-server")
        redis.arguments = [
            "--port", "\(port)", "--bind", "127.0.0.1", "--dir", folder.path, "--cluster-enabled", "yes",
            "--cluster-port", "\(port + 3)", "--cluster-config-file", "nodes.conf", "--cluster-node-timeout", "2000",
            "--cluster-require-full-coverage", "no", "--appendonly", "yes", "--save", "", "--protected-mode", "yes",
        ]
        redis.standardOutput = FileHandle.nullDevice
        try redis.run()
        return redis
    }

    /// SIGKILL: no chance to write anything more.
    func kill(port: Int) async {
        guard let process = processes.withLock({ $0[port] }) else { return }
        Foundation.kill(process.processIdentifier, SIGKILL)
        await ChildProcess.exit(of: process)
    }

    /// Starts the master again on its files (its node id, slots and append-only file), and waits until
    /// it answers.
    func restart(port: Int) async throws {
        let process = try Self.launch(port: port, directory: directory)
        processes.withLock { $0[port] = process }
        let client = try RedisClient(url: "redis://127.0.0.1:\(port)")
        _ = try await waitUntil(timeout: .seconds(20)) {
            (try? await client.command(["CLUSTER", "INFO"]).string)?.contains("cluster_state:ok") == true
        }
    }

    func stop() {
        for process in processes.withLock({ Array($0.values) }) where process.isRunning {
            // SIGKILL ends it at once; Foundation reaps it (no thread waits for that).
            Foundation.kill(process.processIdentifier, SIGKILL)
        }
        try? FileManager.default.removeItem(at: directory)
    }
}
