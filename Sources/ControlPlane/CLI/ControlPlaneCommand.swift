import ArgumentParser
import Auth
import Edge
import Foundation
import Hummingbird
import Logging
import Observability
import Persistence
import PostgresNIO
import Runtime
import ServiceLifecycle

/// The `controlplane` command: `serve`, `worker`, `all`, `migrate`, `operator-token`, `signing-key`,
/// `master-key`, `retention`, `healthcheck`.
public struct ControlPlaneCommand: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "controlplane",
        abstract: "Multi-tenant control plane for AI developer tooling.",
        subcommands: [
            Serve.self, Worker.self, All.self, Migrate.self, OperatorTokenCommand.self, SigningKeyCommand.self,
            MasterKeyCommand.self, RetentionCommand.self, HealthcheckCommand.self,
        ],
        defaultSubcommand: All.self)

    public init() {}

    /// Runs the API server.
    struct Serve: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Run the HTTP API.")
        func run() async throws { try await runServer() }
    }

    /// Runs the runtime alone: the worker slots, the relay and the reaper, no HTTP API.
    struct Worker: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Run the runtime (workers) without the API.")
        func run() async throws { try await runWorker() }
    }

    /// Runs every part of the product in one process: the API and the runtime.
    struct All: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Run the API and the runtime in one process.")
        func run() async throws { try await runServer(withWorker: true) }
    }

    /// Applies pending migrations with the owner role.
    struct Migrate: AsyncParsableCommand {
        static let configuration = CommandConfiguration(abstract: "Apply pending database migrations.")
        func run() async throws {
            let configuration = try Configuration()
            let logger = makeLogger(configuration)
            let client = PostgresClient(
                configuration: try DatabaseURL.configuration(configuration.database.migrationURL))
            let plan = try MigrationPlan.load(from: configuration.database.migrationsDirectory)
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask { await client.run() }
                defer { group.cancelAll() }
                let applied = try await Migrator(client: client, logger: logger).migrate(plan)
                logger.info(
                    "migrations up to date", metadata: ["applied": "\(applied)", "known": "\(plan.migrations.count)"])
            }
        }
    }
}

private func runServer(withWorker: Bool = false) async throws {
    let configuration = try Configuration()
    let logger = makeLogger(configuration)
    do {
        try await PortPreflight.check(host: configuration.http.host, port: configuration.http.port)
        let app = try buildApplication(configuration, logger: logger, withWorker: withWorker)
        // Like `app.runService()`, with a bound on the graceful part: a service stuck waiting (for a
        // database that went away, say) is cancelled after `CP_SHUTDOWN_GRACE_SECONDS`, and the process
        // aborts if the cancellation has not ended it 10 s later.
        var group = ServiceGroupConfiguration(
            services: [app], gracefulShutdownSignals: [.sigterm, .sigint], logger: logger)
        group.maximumGracefulShutdownDuration = configuration.process.shutdownGrace
        // And a bound on the cancellation that follows: a service that does not return when cancelled
        // must not keep the process alive (the orchestrator restarts it; a hung one it cannot tell).
        group.maximumCancellationDuration = .seconds(10)
        try await ServiceGroup(configuration: group).run()
    } catch {
        // postgres-nio hides details from `description`; an operator needs them to fix the setup.
        logger.critical("server stopped", metadata: ["error": .string(String(reflecting: error))])
        throw ExitCode.failure
    }
}

private func runWorker() async throws {
    let configuration = try Configuration()
    let logger = makeLogger(configuration)
    do {
        if configuration.http.workerPort != 0 {
            try await PortPreflight.check(host: configuration.http.host, port: configuration.http.workerPort)
        }
        try await buildWorker(configuration, logger: logger).run()
    } catch {
        logger.critical("worker stopped", metadata: ["error": .string(String(reflecting: error))])
        throw ExitCode.failure
    }
}

/// JSON logs, with the request id on every line written during a request: to standard output for the
/// servers, to standard error for commands (`toStandardError`) whose standard output is their answer.
func makeLogger(_ configuration: Configuration, toStandardError: Bool = false) -> Logger {
    let level = Logger.Level(rawValue: configuration.process.logLevel) ?? .info
    LoggingSystem.bootstrap(
        { label, provider in
            JSONLogHandler(label: label, level: level, metadataProvider: provider, toStandardError: toStandardError)
        }, metadataProvider: RequestScope.metadataProvider)
    var logger = Logger(label: "controlplane")
    logger.logLevel = level
    return logger
}

extension ControlPlaneCommand {
    /// Parses the process arguments and runs the chosen subcommand asynchronously.
    public static func runFromCommandLine() async {
        let command: any AsyncParsableCommand.Type = ControlPlaneCommand.self
        await command.main()
    }
}
