import Foundation
import HTTPTypes
import HummingbirdTesting
import NIOCore
import Testing
import Webhooks

/// A webhook endpoint as created through the API.
struct CreatedEndpoint: Sendable {
    let id: String
    let url: String
    let secret: String
}

extension TestClientProtocol {
    func createEndpoint(
        token: String, pipelines: [String] = ["commitments", "security_review", "change_summary"],
        repositories: [String]? = nil, active: Bool? = nil
    ) async throws -> CreatedEndpoint {
        var json: [String: Any] = ["provider": "github", "pipelines": pipelines]
        if let repositories { json["repositories"] = repositories }
        if let active { json["active"] = active }
        let response = try await send(.post, "/v1/webhooks", token: token, json: json)
        #expect(
            response.status == .created, "create endpoint answered \(response.status): \(String(buffer: response.body))"
        )
        let object = try response.jsonObject()
        return CreatedEndpoint(
            id: object["id"] as? String ?? "", url: object["url"] as? String ?? "",
            secret: object["secret"] as? String ?? "")
    }

    /// Sends a delivery as GitHub does: the exact bytes, signed with `secret` unless `signature` is given.
    func deliver(
        _ url: String, event: String, delivery: String = UUID().uuidString.lowercased(), body: [UInt8],
        secret: String?, signature: String? = nil, contentType: String = "application/json"
    ) async throws -> TestResponse {
        var headers: HTTPFields = [:]
        headers[.contentType] = contentType
        headers[HTTPField.Name("X-GitHub-Event")!] = event
        headers[HTTPField.Name("X-GitHub-Delivery")!] = delivery
        headers[HTTPField.Name("User-Agent")!] = "GitHub-Hookshot/044aadd"
        if let header = signature ?? secret.map({ WebhookSignature.header(for: body, secret: Array($0.utf8)) }) {
            headers[HTTPField.Name("X-Hub-Signature-256")!] = header
        }
        return try await executeRequest(uri: url, method: .post, headers: headers, body: ByteBuffer(bytes: body))
    }
}
