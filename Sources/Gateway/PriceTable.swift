import Foundation
import Persistence
import PostgresNIO
import Providers
import Synchronization

/// Prices per million tokens in micro-USD, by provider and model: shipped defaults for common models,
/// overridden by the operator's rows in `model_prices` (reloaded by `refresh`). Unknown models and
/// `mock` cost nothing. Reasoning tokens are priced as output.
public final class PriceTable: Sendable {
    public struct Price: Sendable, Equatable {
        public let inputPerMillion: Int64
        public let outputPerMillion: Int64
    }

    static let shipped: [String: Price] = [
        "openai/gpt-4o": Price(inputPerMillion: 2_500_000, outputPerMillion: 10_000_000),
        "openai/gpt-4o-mini": Price(inputPerMillion: 150_000, outputPerMillion: 600_000),
        "openai/gpt-4.1": Price(inputPerMillion: 2_000_000, outputPerMillion: 8_000_000),
        "openai/gpt-4.1-mini": Price(inputPerMillion: 400_000, outputPerMillion: 1_600_000),
        "openai/o3-mini": Price(inputPerMillion: 1_100_000, outputPerMillion: 4_400_000),
        "groq/llama-3.1-8b-instant": Price(inputPerMillion: 50_000, outputPerMillion: 80_000),
        "groq/llama-3.3-70b-versatile": Price(inputPerMillion: 590_000, outputPerMillion: 790_000),
        "gemini/gemini-2.5-flash": Price(inputPerMillion: 300_000, outputPerMillion: 2_500_000),
        "gemini/gemini-2.5-pro": Price(inputPerMillion: 1_250_000, outputPerMillion: 10_000_000),
        "anthropic/claude-3-5-haiku-latest": Price(inputPerMillion: 800_000, outputPerMillion: 4_000_000),
        "anthropic/claude-sonnet-4-0": Price(inputPerMillion: 3_000_000, outputPerMillion: 15_000_000),
    ]

    private let overrides = Mutex<[String: Price]>([:])

    public init() {}

    public func price(provider: ProviderKind, model: String) -> Price? {
        let key = "\(provider.rawValue)/\(model)"
        return overrides.withLock { $0[key] } ?? Self.shipped[key]
    }

    /// The cost of `usage` in micro-USD, rounded up.
    public func cost(_ usage: TokenUsage, provider: ProviderKind, model: String) -> Int64 {
        guard let price = price(provider: provider, model: model) else { return 0 }
        let micros =
            (Double(usage.promptTokens) * Double(price.inputPerMillion)
                + Double(usage.completionTokens + usage.reasoningTokens) * Double(price.outputPerMillion)) / 1_000_000
        return micros.roundedUp(atLeast: 0, atMost: Int64.max)
    }

    /// Reloads the operator's overrides.
    public func refresh(from database: Database) async throws {
        let rows = try await database.query(
            "SELECT provider, model, input_micros_per_mtok, output_micros_per_mtok FROM model_prices",
            logger: database.logger)
        var loaded: [String: Price] = [:]
        for try await (provider, model, input, output) in rows.decode((String, String, Int64, Int64).self) {
            loaded["\(provider)/\(model)"] = Price(inputPerMillion: input, outputPerMillion: output)
        }
        overrides.withLock { $0 = loaded }
    }
}
