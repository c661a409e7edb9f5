import Foundation
import Persistence

/// An organisation using the platform.
public struct Tenant: Sendable, Equatable {
    public enum Status: String, Sendable, CaseIterable { case active, suspended }
    public enum Plan: String, Sendable, CaseIterable { case free, team, enterprise }

    public let id: TenantID
    public var slug: String
    public var name: String
    public var status: Status
    public var plan: Plan
    public var timezone: String
    public let createdAt: Date

    public init(
        id: TenantID, slug: String, name: String, status: Status, plan: Plan, timezone: String, createdAt: Date
    ) {
        self.id = id
        self.slug = slug
        self.name = name
        self.status = status
        self.plan = plan
        self.timezone = timezone
        self.createdAt = createdAt
    }
}
