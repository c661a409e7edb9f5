import Auth
import BlockingWork
import ControlPlane
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Interventions
import Logging
import NIOCore
import Notifications
import Persistence
import PostgresNIO
import Runtime
import Settings
import Synchronization
import Tenancy
import TestKit
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// The services started by `scripts/test`, read from the environment it exports.
enum TestEnvironment {
    /// The repository's root: the nearest folder above this file that holds `Package.swift`, wherever
    /// in the tests' folders the file sits.
    static let repositoryRoot: URL = {
        var folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        while !FileManager.default.fileExists(atPath: folder.appendingPathComponent("Package.swift").path),
            folder.path != "/"
        {
            folder.deleteLastPathComponent()
        }
        return folder
    }()

    static var configuration: Configuration {
        get throws {
            var configuration = try Configuration()
            guard !configuration.sealing.masterKey.isEmpty else {
                throw ConfigurationError.missing("CP_MASTER_KEY (run the tests through scripts/test)")
            }
            // The running suite's own database (SuiteDatabases), for the app and the tests' own connections.
            configuration.database.url = SuiteDatabases.rewrite(configuration.database.url)
            configuration.database.listenerURL = SuiteDatabases.rewrite(configuration.database.listenerURL)
            configuration.database.migrationURL = SuiteDatabases.rewrite(configuration.database.migrationURL)
            configuration.database.poolSize = 4
            configuration.database.connectionsPerTenant = 2
            // Dozens of test apps share one Postgres: connections are opened on demand, not at start.
            configuration.database.poolMinimum = 0
            configuration.auth.signupsPerHourPerAddress = 1_000_000
            configuration.auth.loginAttemptsPerMinutePerAddress = 1_000_000
            configuration.auth.loginAttemptsPerMinute = 1_000_000
            configuration.http.port = 0
            // Tests that are not about rate limits must never meet one; RateLimitTests set their own.
            configuration.billing.defaultRequestsPerMinute = 1_000_000
            configuration.billing.defaultBurst = 1_000_000
            // Refusals go at once, except where a test is about their pacing (RateLimitTests).
            configuration.http.refusalPacing = .zero
            // Each app has queues of its own on the shared Redis. Its relay would send any app's stray jobs
            // to its own queues, so it runs only where a test asks for it (a short interval), and never
            // rebuilds; workers (only where a test asks for them) retry and reap quickly.
            configuration.jobs.queuePrefix = "cp-test-\(UUID().uuidString.prefix(8).lowercased())"
            configuration.jobs.rebuildsAfterLoss = false
            configuration.jobs.relayInterval = .seconds(3600)
            configuration.jobs.lostAfter = .seconds(10)
            configuration.jobs.relayMinimumAge = .seconds(1)
            configuration.runtime.worker = WorkerSettings(
                concurrency: 4, visibilityTimeout: .seconds(5), backoffBase: .milliseconds(50),
                backoffCap: .milliseconds(200), reapInterval: .seconds(1))
            // Notifications go to receivers on 127.0.0.2, the one loopback address the guard lets through
            // in tests (127.0.0.1 stays refused, as the guard tests expect), and are retried quickly. Any
            // worker app may send any tenant's events, so every app is configured alike.
            configuration.gateway.providerURLAllowlist = ["127.0.0.2"]
            configuration.notifications = NotificationSenderSettings(
                pollInterval: .milliseconds(50), timeout: .seconds(2), maxAttempts: 3,
                backoffBase: .milliseconds(100))
            // Tests share one database and some move their clock: the intervention scheduler works only
            // for the tenants a test names (InterventionTests), never on another test's commitments.
            configuration.interventions = InterventionSchedulerSettings(
                pollInterval: .milliseconds(100), lease: .seconds(30), tenants: [])
            return configuration
        }
    }

    static let logger: Logger = {
        var logger = Logger(label: "controlplane-tests")
        logger.logLevel = ProcessInfo.processInfo.environment["CP_TEST_LOG"] == "1" ? .debug : .critical
        return logger
    }()

    /// Runs `body` with a client of a fresh application (a whole server per test, as Svix does).
    static func withApp<Value: Sendable>(
        _ setup: TestingSetup = .router, worker: Bool = false,
        configure: (inout Configuration) -> Void = { _ in },
        _ body: @Sendable (any TestClientProtocol) async throws -> Value
    ) async throws -> Value {
        var configuration = try configuration
        try await SuiteDatabases.ensureCurrent(ownerURL: try Configuration().database.migrationURL)
        configure(&configuration)
        let app = try buildApplication(configuration, logger: logger, withWorker: worker)
        return try await app.test(setup, body)
    }

    /// The environment for a `controlplane` process a test starts: this process's, with the running
    /// suite's database (made if need be) in place of the shared one.
    static func childEnvironment() async throws -> [String: String] {
        let configuration = try configuration
        try await SuiteDatabases.ensureCurrent(ownerURL: try Configuration().database.migrationURL)
        return ProcessInfo.processInfo.environment.merging([
            "CP_DATABASE_URL": configuration.database.url,
            "CP_LISTENER_DATABASE_URL": configuration.database.listenerURL,
            "CP_MIGRATION_DATABASE_URL": configuration.database.migrationURL,
        ]) { _, suite in suite }
    }

    /// Runs `body` with a Postgres client connected as the application role (or, with `owner`, as the
    /// owner role that migrations and the key-management commands use), of at most `connections`
    /// connections when given.
    static func withDatabase<Value: Sendable>(
        owner: Bool = false, connections: Int? = nil, _ body: @Sendable (PostgresClient) async throws -> Value
    ) async throws -> Value {
        let configuration = try configuration
        try await SuiteDatabases.ensureCurrent(ownerURL: try Configuration().database.migrationURL)
        let url = owner ? configuration.database.migrationURL : configuration.database.url
        var postgres = try DatabaseURL.configuration(url)
        if let connections { postgres.options.maximumConnections = connections }
        let client = PostgresClient(configuration: postgres)
        return try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await client.run() }
            defer { group.cancelAll() }
            return try await body(client)
        }
    }
}

extension TestEnvironment {
    /// Runs `body` in a transaction of `tenant` (as the owner role by default, which may change any
    /// column: tests that move a row's clock).
    static func withTenantTransaction<Value: Sendable>(
        _ tenant: String, owner: Bool = true, _ body: @Sendable (TenantTransaction) async throws -> Value
    ) async throws -> Value {
        guard let tenantID = TenantID(string: tenant) else { throw TenantMismatch() }
        return try await withDatabase(owner: owner) { client in
            try await Database(client: client, logger: logger).withTenant(tenantID, body)
        }
    }
}

/// A tenant made by signing up through the API.
struct SignedUpTenant: Sendable {
    let tenantID: String
    let slug: String
    let email: String
    let password: String
    let keyID: String
    let token: String
}

/// A unique slug for this test run.
func uniqueSlug(_ prefix: String = "t") -> String {
    "\(prefix)-\(UUID().uuidString.lowercased().prefix(13))".replacingOccurrences(of: "--", with: "-")
}

extension TestClientProtocol {
    /// Sends JSON (or raw text) and returns the response.
    func send(
        _ method: HTTPRequest.Method, _ uri: String, token: String? = nil, json: Any? = nil, raw: String? = nil,
        headers extra: HTTPFields = [:]
    ) async throws -> TestResponse {
        var headers = extra
        if let token { headers[.authorization] = "Bearer \(token)" }
        var body: ByteBuffer?
        if let json {
            headers[.contentType] = "application/json"
            body = ByteBuffer(bytes: try JSONSerialization.data(withJSONObject: json))
        } else if let raw {
            if headers[.contentType] == nil { headers[.contentType] = "application/json" }
            body = ByteBuffer(string: raw)
        }
        return try await executeRequest(uri: uri, method: method, headers: headers, body: body)
    }

    func signup(
        slug: String = uniqueSlug(), email: String? = nil, password: String = "correct horse battery",
        timezone: String? = nil
    ) async throws -> SignedUpTenant {
        let email = email ?? "\(slug)@example.test"
        let response = try await signupResponse(slug: slug, email: email, password: password, timezone: timezone)
        #expect(response.status == .created, "signup answered \(response.status): \(String(buffer: response.body))")
        let object = try response.jsonObject()
        let tenant = object["tenant"] as? [String: Any] ?? [:]
        let key = object["api_key"] as? [String: Any] ?? [:]
        return SignedUpTenant(
            tenantID: tenant["id"] as? String ?? "", slug: slug, email: email, password: password,
            keyID: key["id"] as? String ?? "", token: key["token"] as? String ?? "")
    }

    /// The answer to a signup of organisation `slug`, whatever it is.
    func signupResponse(
        slug: String = uniqueSlug(), email: String? = nil, password: String = "correct horse battery",
        timezone: String? = nil
    ) async throws -> TestResponse {
        var json: [String: Any] = [
            "organization_name": "Org \(slug)", "slug": slug, "admin_email": email ?? "\(slug)@example.test",
            "admin_password": password,
        ]
        if let timezone { json["timezone"] = timezone }
        return try await send(.post, "/v1/signup", json: json)
    }

    /// Creates a key with `scopes` using `token`; returns (id, token).
    func createKey(token: String, scopes: [String], expiresIn: Int? = nil) async throws -> (id: String, token: String) {
        var json: [String: Any] = ["name": "test key", "scopes": scopes]
        if let expiresIn { json["expires_in_seconds"] = expiresIn }
        let response = try await send(.post, "/v1/keys", token: token, json: json)
        #expect(response.status == .created, "create key answered \(response.status): \(String(buffer: response.body))")
        let object = try response.jsonObject()
        return (object["id"] as? String ?? "", object["token"] as? String ?? "")
    }
}

extension TestResponse {
    func jsonObject() throws -> [String: Any] {
        let value = try JSONSerialization.jsonObject(with: Data(buffer: body))
        return value as? [String: Any] ?? [:]
    }

    /// The `detail` of a problem answer, if it is one.
    var problemDetail: String? { (try? jsonObject())?["detail"] as? String }

    /// Asserts an RFC 9457 problem with this status and code.
    func expectProblem(_ status: Int, _ code: String, sourceLocation: SourceLocation = #_sourceLocation) throws {
        #expect(
            self.status.code == status, "expected \(status), got \(self.status): \(String(buffer: body))",
            sourceLocation: sourceLocation)
        #expect(headers[.contentType] == "application/problem+json", sourceLocation: sourceLocation)
        let object = try jsonObject()
        #expect(object["code"] as? String == code, sourceLocation: sourceLocation)
        #expect(object["status"] as? Int == status, sourceLocation: sourceLocation)
        #expect(object["title"] is String && object["type"] is String, sourceLocation: sourceLocation)
        #expect((object["request_id"] as? String)?.isEmpty == false, sourceLocation: sourceLocation)
    }
}

/// The SQLSTATE of a Postgres error, if `error` is one.
func sqlState(_ error: any Error) -> String? {
    (error as? PSQLError)?.serverInfo?[.sqlState]
}

/// A loopback port that nothing listens on or is bound to now, below the kernel's range of ports for
/// outgoing connections (32768 and up), so that none of the test process's own connections can take it
/// before a server started on it binds it. `count` consecutive ports are free when asked for.
func unusedLoopbackPort(count: Int = 1, in range: Range<Int> = 21_000..<32_000) -> Int {
    for _ in 0..<200 {
        let base = Int.random(in: range.lowerBound..<(range.upperBound - count))
        if (base..<(base + count)).allSatisfy(isBindable) { return base }
    }
    return Int.random(in: range)
}

private func isBindable(_ port: Int) -> Bool {
    let descriptor = RawHTTP.tcpSocket()
    guard descriptor >= 0 else { return false }
    defer { close(descriptor) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_port = in_port_t(UInt16(port).bigEndian)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    return withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
            bind(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) == 0
        }
    }
}
