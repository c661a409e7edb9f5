import ControlPlaneAPI
import ControlPlaneAPITypes
import Edge
import Foundation
import Observability
import OpenAPIRuntime
import Webhooks

/// `POST /v1/hooks/github/{endpoint_id}`: authenticated by the delivery's signature alone. The body
/// arrives as raw bytes (the route takes any media type), so the signature is checked over exactly what
/// GitHub signed before anything parses it.
struct HooksHandler: Sendable {
    let ingest: WebhookIngest
    let maxBodyBytes: Int
    let metrics: WebhookMetrics

    func receiveGitHubWebhook(_ input: Operations.ReceiveGitHubWebhook.Input) async throws
        -> Operations.ReceiveGitHubWebhook.Output
    {
        guard case .any(let stream) = input.body else { throw APIError.invalid("Send the delivery's body.") }
        let body: [UInt8]
        do {
            body = Array(try await ArraySlice<UInt8>(collecting: stream, upTo: maxBodyBytes))
        } catch {
            throw APIError.payloadTooLarge(limit: maxBodyBytes)
        }
        let event = input.headers.xGitHubEvent
        do {
            let accepted = try await ingest.receive(
                endpoint: input.path.endpointId, event: event, githubDelivery: input.headers.xGitHubDelivery,
                signature: input.headers.xHubSignature256, body: body)
            metrics.delivery(result: accepted.duplicate ? "duplicate" : accepted.status.rawValue)
            let receipt = Components.Schemas.DeliveryReceipt(
                deliveryId: accepted.deliveryID.uuidString.lowercased(),
                status: .init(rawValue: accepted.status.rawValue) ?? .accepted, duplicate: accepted.duplicate,
                jobIds: accepted.jobIDs.map { $0.uuidString.lowercased() })
            if accepted.duplicate || accepted.jobIDs.isEmpty { return .ok(.init(body: .json(receipt))) }
            return .accepted(.init(body: .json(receipt)))
        } catch let refusal as IngestRefusal {
            switch refusal {
            case .signature: metrics.delivery(result: "signature_invalid")
            case .malformed: metrics.delivery(result: "malformed")
            case .queueFull: metrics.delivery(result: "queue_full")
            }
            throw refusal
        }
    }
}
