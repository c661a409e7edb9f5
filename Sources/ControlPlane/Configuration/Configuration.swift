import Auth
import Billing
import Edge
import Foundation
import Gateway
import Interventions
import Jobs
import Notifications
import Persistence
import RedisClient
import Runtime
import Settings

/// Every setting of the process, read from `CP_*` environment variables in one place: each module's
/// typed settings read their own variables, with documented defaults and ranges (README, "Configuration";
/// `ConfigurationDocumentationTests` holds that table to the names read here).
public struct Configuration: Sendable {
    public var http: HTTPSettings
    public var database: DatabaseSettings
    public var sealing: SealingSettings
    public var redis: RedisSettings
    public var auth: AuthSettings
    public var billing: BillingSettings
    public var jobs: JobsSettings
    public var gateway: GatewaySettings
    public var notifications: NotificationSenderSettings
    public var interventions: InterventionSchedulerSettings
    public var runtime: RuntimeSettings
    public var process: ProcessSettings
    /// The clock sessions and tokens are judged by (tests move it forward).
    public var clock: ServerClock = .system

    public init(environment: [String: String] = ProcessInfo.processInfo.environment) throws {
        try self.init(SettingsReader(environment))
    }

    /// The settings `reader` finds; afterwards `reader.names` lists every variable the process reads.
    public init(_ reader: SettingsReader) throws {
        http = try HTTPSettings(reader)
        database = try DatabaseSettings(reader)
        sealing = SealingSettings(reader)
        redis = try RedisSettings(reader)
        auth = try AuthSettings(reader)
        billing = try BillingSettings(reader)
        jobs = try JobsSettings(reader)
        gateway = try GatewaySettings(reader)
        notifications = try NotificationSenderSettings(reader)
        interventions = try InterventionSchedulerSettings(reader)
        runtime = try RuntimeSettings(reader)
        process = try ProcessSettings(reader)
    }
}
