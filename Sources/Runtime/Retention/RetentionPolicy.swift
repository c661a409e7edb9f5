import Foundation
import Tenancy

/// How long each plan keeps a tenant's detail (webhook deliveries, jobs, usage records, sent
/// notifications) and, separately and longer, its audit events. Daily usage totals are kept forever.
public struct RetentionPolicy: Sendable, Equatable {
    /// Days of detail per plan.
    public var detailDays: [Tenant.Plan: Int]
    /// Days of audit events per plan.
    public var auditDays: [Tenant.Plan: Int]

    /// Detail 30 / 90 / 365 days and audit events 365 / 730 / 2,555 days (7 years) on the free, team and
    /// enterprise plans.
    public static let standard = RetentionPolicy(
        detailDays: [.free: 30, .team: 90, .enterprise: 365], auditDays: [.free: 365, .team: 730, .enterprise: 2555])

    public init(detailDays: [Tenant.Plan: Int], auditDays: [Tenant.Plan: Int]) {
        self.detailDays = detailDays
        self.auditDays = auditDays
    }

    /// The instants before which a tenant on `plan` keeps nothing, at `now`.
    public func cutoffs(for plan: Tenant.Plan, at now: Date) -> (detail: Date, audit: Date) {
        let standard = Self.standard
        let detail = detailDays[plan] ?? standard.detailDays[plan] ?? 30
        let audit = auditDays[plan] ?? standard.auditDays[plan] ?? 365
        return (now.addingTimeInterval(-Double(detail) * 86_400), now.addingTimeInterval(-Double(audit) * 86_400))
    }
}
