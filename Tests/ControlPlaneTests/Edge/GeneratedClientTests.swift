import AsyncHTTPClient
import ControlPlaneClient
import Foundation
import HTTPTypes
import HummingbirdTesting
import OpenAPIAsyncHTTPClient
import OpenAPIRuntime
import Testing

/// Adds the bearer token to every request of the generated client.
struct BearerToken: ClientMiddleware {
    let token: String
    func intercept(
        _ request: HTTPRequest, body: HTTPBody?, baseURL: URL, operationID: String,
        next: @Sendable (HTTPRequest, HTTPBody?, URL) async throws -> (HTTPResponse, HTTPBody?)
    ) async throws -> (HTTPResponse, HTTPBody?) {
        var request = request
        request.headerFields[.authorization] = "Bearer \(token)"
        return try await next(request, body, baseURL)
    }
}

/// The client generated from the same openapi.yaml talks to a live listener: the spec matches the server.
@Suite(.timeLimit(.minutes(3))) struct GeneratedClientTests {
    @Test func theGeneratedClientDrivesTheLiveServer() async throws {
        try await TestEnvironment.withApp(.live) { testClient in
            let port = try #require(testClient.port)
            let serverURL = URL(string: "http://127.0.0.1:\(port)")!
            let transport = AsyncHTTPClientTransport(configuration: .init(client: .shared, timeout: .seconds(30)))
            let anonymous = Client(serverURL: serverURL, transport: transport)

            let slug = uniqueSlug("gen")
            let signup = try await anonymous.signup(
                body: .json(
                    .init(
                        organizationName: "Generated", slug: slug, adminEmail: "\(slug)@example.test",
                        adminPassword: "correct horse battery")))
            let created = try signup.created.body.json
            #expect(created.tenant.slug == slug)
            #expect(created.apiKey.scopes.count == 17)

            let conflict = try await anonymous.signup(
                body: .json(
                    .init(
                        organizationName: "Again", slug: slug, adminEmail: "other-\(slug)@example.test",
                        adminPassword: "correct horse battery")))
            let problem = try conflict.conflict.body.applicationProblemJson
            #expect(problem.code == .conflict)
            #expect(problem.status == 409)

            let authorized = Client(
                serverURL: serverURL, transport: transport, middlewares: [BearerToken(token: created.apiKey.token)])
            let tenant = try await authorized.getTenant().ok.body.json
            #expect(tenant.id == created.tenant.id)
            let key = try await authorized.createKey(
                body: .json(.init(name: "from client", scopes: [.tenant_colon_read]))
            )
            .created.body.json
            let keys = try await authorized.listKeys(query: .init(limit: 10)).ok.body.json
            #expect(Set(keys.items.map(\.id)) == [key.id, created.apiKey.id])
            _ = try await authorized.revokeKey(path: .init(keyId: key.id)).noContent
            let revoked = try await authorized.getKey(path: .init(keyId: key.id)).notFound.body.applicationProblemJson
            #expect(revoked.code == .notFound)
            let login = try await anonymous.login(
                body: .json(.init(email: "\(slug)@example.test", password: "correct horse battery"))
            ).ok.body.json
            #expect(login.tokenType == .bearer)
            let audit = try await authorized.listAuditEvents().ok.body.json
            #expect(audit.items.contains { $0.action == "key.revoke" })
            let missing = try await authorized.getKey(path: .init(keyId: UUID().uuidString)).notFound.body
                .applicationProblemJson
            #expect(missing.code == .notFound)
        }
    }
}
