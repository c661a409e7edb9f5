import Foundation

/// A tenant's token budget: at most `tokenLimit` billed tokens per calendar `period` in the tenant's time
/// zone. The operator's `maxTokenLimit` bounds what the tenant may choose.
public struct Budget: Sendable, Equatable {
    public enum Period: String, Sendable, CaseIterable {
        case day, week, month
    }

    /// What happens to a call whose worst case no longer fits.
    public enum OnExhausted: String, Sendable, CaseIterable {
        /// The call is refused (`budget_exhausted`).
        case block
        /// The call still runs while its prompt estimate plus one completion token fits, with `max_tokens`
        /// lowered to what remains, so the limit is never passed.
        case degrade
    }

    public var period: Period
    public var tokenLimit: Int64
    public var softLimitPercent: Int
    public var onExhausted: OnExhausted
    public var maxTokenLimit: Int64
    public var updatedAt: Date

    /// The largest token limit accepted.
    public static let ceiling: Int64 = 1_000_000_000_000

    public init(
        period: Period, tokenLimit: Int64, softLimitPercent: Int, onExhausted: OnExhausted, maxTokenLimit: Int64,
        updatedAt: Date
    ) {
        self.period = period
        self.tokenLimit = tokenLimit
        self.softLimitPercent = softLimitPercent
        self.onExhausted = onExhausted
        self.maxTokenLimit = maxTokenLimit
        self.updatedAt = updatedAt
    }
}

/// Where one budget period stands.
public struct BudgetStanding: Sendable, Equatable {
    public let periodStart: Date
    public let periodEnd: Date
    /// Tokens the providers billed in this period.
    public let used: Int64
    /// Tokens held for calls in flight.
    public let reserved: Int64
    public let softLimitReached: Bool
    /// A call was refused or degraded for this budget in this period.
    public let exhausted: Bool

    public func remaining(of budget: Budget) -> Int64 {
        max(0, budget.tokenLimit - used - reserved)
    }
}
