import Gateway
import Providers
import Testing

/// Whatever counts a provider reports, usage stays within bounds: no sum overflows, no negative count
/// reaches the ledger, and the cost cannot trap.
@Suite(.timeLimit(.minutes(3))) struct ProviderUsageTests {
    @Test func extremeCountsAreBoundedNotTrapped() {
        let usage = TokenUsage(
            promptTokens: .max, completionTokens: .max, reasoningTokens: .min, totalTokens: .max)
        #expect(usage.promptTokens == TokenUsage.maxTokens)
        #expect(usage.reasoningTokens == 0)
        #expect(usage.totalTokens == 3 * TokenUsage.maxTokens)
        let cost = PriceTable().cost(usage, provider: .openai, model: "gpt-4o")
        #expect(cost > 0 && cost < .max)
    }

    @Test func theTotalIsNeverBelowItsParts() {
        let usage = TokenUsage(promptTokens: 10, completionTokens: 20, reasoningTokens: 5, totalTokens: 3)
        #expect(usage.totalTokens == 35)
        #expect(
            TokenUsage(promptTokens: 10, completionTokens: 20, reasoningTokens: 0, totalTokens: 40).totalTokens == 40)
    }
}
