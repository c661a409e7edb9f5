import ControlPlaneAPI
import ControlPlaneAPITypes
import Edge
import Foundation
import Gateway
import OpenAPIRuntime
import Persistence
import Providers
import Tenancy

/// The OpenAI-compatible gateway: chat completions (whole or streamed) and the models a tenant's
/// policy allows. A tenant has at most `callsPerTenant` calls in flight on this replica (a stream counts
/// until it ends); more are refused with 429.
struct LLMHandler: Sendable {
    let gateway: LLMGateway
    let callsPerTenant: Int
    let inFlight = TenantCounts()

    init(gateway: LLMGateway, callsPerTenant: Int) {
        self.gateway = gateway
        self.callsPerTenant = callsPerTenant
    }

    func createChatCompletion(_ input: Operations.CreateChatCompletion.Input) async throws
        -> Operations.CreateChatCompletion.Output
    {
        let scope = RequestScope.now
        let (_, tenantID) = try scope.tenantCaller()
        guard case .json(let request) = input.body else { throw APIError.invalid("Send application/json.") }
        let call = try Self.call(request, tenantID: tenantID, requestID: scope.requestID)
        let created = Int64(Date().timeIntervalSince1970)
        guard inFlight.take(tenantID, limit: callsPerTenant) else {
            throw APIError.rateLimited(
                retryAfter: 1, detail: "At most \(callsPerTenant) gateway calls of a tenant may be in flight at once.")
        }
        var handedOver = false
        defer { if !handedOver { inFlight.remove(tenantID) } }

        if request.stream == true {
            let stream = try await gateway.stream(call)
            let inFlight = self.inFlight
            let body = ChatCompletionEvents.body(
                stream.events, id: "chatcmpl-\(scope.requestID)", model: stream.model, created: created,
                includeUsage: request.streamOptions?.includeUsage == true, deadline: stream.deadline,
                whenDone: { inFlight.remove(tenantID) })
            handedOver = true
            return .ok(
                .init(
                    headers: .init(
                        xControlPlaneProvider: stream.provider.rawValue, xControlPlaneModel: stream.model,
                        xControlPlaneCache: stream.cached ? .hit : .miss),
                    body: .textEventStream(body)))
        }

        let answer = try await gateway.complete(call)
        let usage = answer.result.usage
        let completion = Components.Schemas.ChatCompletion(
            id: answer.result.id, object: .chat_completion, created: created, model: answer.model,
            choices: [
                .init(
                    index: 0, message: .init(role: .assistant, content: answer.result.content),
                    finishReason: answer.result.finishReason)
            ],
            usage: .init(
                promptTokens: usage.promptTokens, completionTokens: usage.completionTokens + usage.reasoningTokens,
                totalTokens: usage.totalTokens, completionTokensDetails: .init(reasoningTokens: usage.reasoningTokens)))
        return .ok(
            .init(
                headers: .init(
                    xControlPlaneProvider: answer.provider.rawValue, xControlPlaneModel: answer.model,
                    xControlPlaneCache: answer.cached ? .hit : .miss),
                body: .json(completion)))
    }

    func listModels(_ input: Operations.ListModels.Input) async throws -> Operations.ListModels.Output {
        let (_, tenantID) = try RequestScope.now.tenantCaller()
        let models = try await gateway.allowedModels(for: tenantID)
        return .ok(
            .init(
                body: .json(
                    .init(
                        object: .list,
                        data: models.map {
                            .init(id: $0.id, object: .model, created: 0, ownedBy: $0.provider.rawValue)
                        }))))
    }

    /// The gateway call a request asks for, after the checks the schema cannot make.
    static func call(_ request: Components.Schemas.ChatCompletionRequest, tenantID: TenantID, requestID: String) throws
        -> LLMCall
    {
        var messages: [ChatMessage] = []
        for message in request.messages {
            let text: String
            switch message.content {
            case .case1(let string): text = string
            case .case2(let parts): text = parts.map(\.text).joined(separator: "\n")
            }
            guard let role = ChatMessage.Role(rawValue: message.role.rawValue) else {
                throw APIError.invalid("messages: unknown role.")
            }
            messages.append(ChatMessage(role: role, content: text))
        }
        if let temperature = request.temperature {
            guard temperature.isFinite, (0...2).contains(temperature) else {
                throw APIError.invalid("temperature must be between 0 and 2.")
            }
        }
        if let topP = request.topP {
            guard topP.isFinite, (0...1).contains(topP) else {
                throw APIError.invalid("top_p must be between 0 and 1.")
            }
        }
        if let n = request.n, n != 1 { throw APIError.invalid("n must be 1: one choice is produced.") }
        let maxTokens = request.maxCompletionTokens ?? request.maxTokens
        if let maxTokens { try Validation.range(maxTokens, 1...1_000_000, field: "max_tokens") }
        let stop: [String]
        switch request.stop {
        case .case1(let one)?: stop = [one]
        case .case2(let list)?: stop = list
        case nil: stop = []
        }
        guard stop.count <= 4 else { throw APIError.invalid("stop may hold at most 4 sequences.") }
        return LLMCall(
            tenantID: tenantID, kind: .chat, model: request.model, messages: messages, maxTokens: maxTokens,
            temperature: request.temperature, topP: request.topP, stop: stop, requestID: requestID)
    }
}
