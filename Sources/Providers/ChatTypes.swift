import Foundation

/// The providers the gateway and the runtime can call.
public enum ProviderKind: String, Sendable, CaseIterable, Codable {
    case openai
    case groq
    case gemini
    case anthropic
    case openaiCompatible = "openai_compatible"
    case mock
}

/// One message of a conversation, in the provider-neutral form every provider translates from.
public struct ChatMessage: Sendable, Equatable {
    public enum Role: String, Sendable, CaseIterable {
        case system, developer, user, assistant
    }

    public var role: Role
    public var content: String

    public init(role: Role, content: String) {
        self.role = role
        self.content = content
    }
}

/// One chat completion asked of one provider and model.
public struct ChatRequest: Sendable, Equatable {
    public var model: String
    public var messages: [ChatMessage]
    /// The most completion tokens (reasoning included) the provider may produce.
    public var maxTokens: Int
    public var temperature: Double?
    public var topP: Double?
    public var stop: [String]
    /// Sent upstream (`X-Request-Id`) so a call can be traced across both sides.
    public var requestID: String
    /// The whole call, first byte to last, for one attempt.
    public var timeout: Duration

    public init(
        model: String, messages: [ChatMessage], maxTokens: Int, temperature: Double? = nil, topP: Double? = nil,
        stop: [String] = [], requestID: String, timeout: Duration = .seconds(60)
    ) {
        self.model = model
        self.messages = messages
        self.maxTokens = maxTokens
        self.temperature = temperature
        self.topP = topP
        self.stop = stop
        self.requestID = requestID
        self.timeout = timeout
    }

    /// A deliberately high estimate of the prompt's tokens: one per three bytes of text plus a few per
    /// message, so that a reservation holds at least what the provider will count.
    public var promptTokenEstimate: Int64 {
        let bytes = messages.reduce(0) { $0 + $1.content.utf8.count + $1.role.rawValue.utf8.count }
        return Int64(bytes / 3 + 8 * messages.count + 16)
    }
}

/// What a provider billed for one call, in its own count.
public struct TokenUsage: Sendable, Equatable {
    public var promptTokens: Int64
    /// Visible output tokens.
    public var completionTokens: Int64
    /// Reasoning or thinking tokens, billed as output.
    public var reasoningTokens: Int64
    public var totalTokens: Int64

    /// The most tokens one count may say (a trillion): whatever a provider reports is brought within
    /// `0...maxTokens`, so no sum of counts can overflow and no negative count reaches the ledger.
    public static let maxTokens: Int64 = 1 << 40

    /// `count` within `0...maxTokens`.
    public static func bounded(_ count: Int64?) -> Int64 {
        min(max(count ?? 0, 0), maxTokens)
    }

    /// Counts as a provider reported them, each bounded; the total is at least the sum of the parts.
    public init(promptTokens: Int64, completionTokens: Int64, reasoningTokens: Int64, totalTokens: Int64? = nil) {
        self.promptTokens = Self.bounded(promptTokens)
        self.completionTokens = Self.bounded(completionTokens)
        self.reasoningTokens = Self.bounded(reasoningTokens)
        let parts = self.promptTokens + self.completionTokens + self.reasoningTokens
        self.totalTokens = max(parts, min(max(totalTokens ?? 0, 0), 3 * Self.maxTokens))
    }

    public static let zero = TokenUsage(promptTokens: 0, completionTokens: 0, reasoningTokens: 0)
}

/// A provider's answer to a whole (not streamed) call.
public struct ChatResult: Sendable, Equatable {
    public var id: String
    public var model: String
    public var content: String
    /// OpenAI's vocabulary: `stop`, `length`, `content_filter`.
    public var finishReason: String
    public var usage: TokenUsage

    public init(id: String, model: String, content: String, finishReason: String, usage: TokenUsage) {
        self.id = id
        self.model = model
        self.content = content
        self.finishReason = finishReason
        self.usage = usage
    }
}

/// One event of a streamed call, whatever the provider's own stream looks like.
public enum ChatStreamEvent: Sendable, Equatable {
    /// More of the answer's text.
    case delta(String)
    /// The answer ended, with OpenAI's finish reason.
    case finish(String)
    /// What the provider billed; the last event of a complete stream.
    case usage(TokenUsage)
}
