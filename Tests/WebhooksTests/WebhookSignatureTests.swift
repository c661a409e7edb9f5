import Foundation
import Testing

@testable import Jobs
@testable import Webhooks

@Suite struct WebhookSignatureTests {
    /// The test vector GitHub publishes in "Validating webhook deliveries".
    @Test func githubsPublishedTestVectorVerifies() async {
        let secret = Array("It's a Secret to Everybody".utf8)
        let body = Array("Hello, World!".utf8)
        let expected = "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"
        #expect(WebhookSignature.header(for: body, secret: secret) == expected)
        #expect(await WebhookSignature.isValid(header: expected, body: body, secrets: [secret]))
        #expect(
            await WebhookSignature.isValid(
                header: expected.uppercased().replacingOccurrences(of: "SHA256=", with: "sha256="), body: body,
                secrets: [secret]))
    }

    @Test func anythingButTheExactSignatureIsRefused() async {
        let secret = Array("It's a Secret to Everybody".utf8)
        let body = Array("Hello, World!".utf8)
        let valid = WebhookSignature.header(for: body, secret: secret)
        let refused: [String?] = [
            nil, "", "sha256=", "sha1=01c0e8bd8e2b9c7fd1b1d4b5e2c5e2a1b2c3d4e5", String(valid.dropLast()),
            valid + "0", " " + valid, valid + " ", "SHA256=" + valid.dropFirst(7), "sha256:" + valid.dropFirst(7),
            "sha256=" + String(repeating: "g", count: 64),
            "sha256=" + String(repeating: "0", count: 64),
        ]
        for header in refused {
            #expect(
                !(await WebhookSignature.isValid(header: header, body: body, secrets: [secret])), "\(header ?? "nil")")
        }
        #expect(!(await WebhookSignature.isValid(header: valid, body: Array("Hello, World?".utf8), secrets: [secret])))
        #expect(!(await WebhookSignature.isValid(header: valid, body: body, secrets: [Array("another".utf8)])))
        #expect(!(await WebhookSignature.isValid(header: valid, body: body, secrets: [])))
        #expect(!(await WebhookSignature.isValid(header: valid, body: body, secrets: [[]])))
        // A body of several slices verifies whole, and a change in its last slice is seen.
        var large = [UInt8](repeating: 0x7b, count: 3 * WebhookSignature.sliceBytes + 17)
        let signed = WebhookSignature.header(for: large, secret: secret)
        #expect(await WebhookSignature.isValid(header: signed, body: large, secrets: [secret]))
        large[large.count - 1] ^= 1
        #expect(!(await WebhookSignature.isValid(header: signed, body: large, secrets: [secret])))
        // During a rotation's grace period either secret verifies.
        #expect(await WebhookSignature.isValid(header: valid, body: body, secrets: [Array("new".utf8), secret]))
    }
}

@Suite struct GitHubPayloadTests {
    @Test func realPayloadVariationsAreRead() throws {
        let deletion = """
            {"ref":"refs/tags/v1.0","before":"6113728f27ae82c7b1a177c8d03f9e96e0adf246",\
            "after":"0000000000000000000000000000000000000000","created":false,"deleted":true,"forced":false,\
            "base_ref":null,"compare":"https://github.com/o/r/compare/6113728f27ae...000000000000",\
            "commits":[],"head_commit":null,"repository":{"id":1,"full_name":"Octo-Org/hello.world",\
            "created_at":1700000000,"pushed_at":1700000100},"pusher":{"name":"octocat","email":null}}
            """
        let payload = try GitHubPayload(body: Array(deletion.utf8))
        #expect(payload.repository == "Octo-Org/hello.world")
        #expect(payload.isDeletion && payload.commitCount == 0 && !payload.formEncoded)
        #expect(payload.ref == "refs/tags/v1.0")

        let pullRequest = """
            {"action":"opened","number":2,"pull_request":{"id":1},"repository":{"full_name":"o/r",\
            "created_at":"2019-05-15T15:19:25Z"},"sender":{"login":"octocat"}}
            """
        let read = try GitHubPayload(body: Array(pullRequest.utf8))
        #expect(read.action == "opened" && read.repository == "o/r" && read.commitCount == 0)

        // Fields of unexpected types read as absent instead of refusing the delivery.
        let odd = try GitHubPayload(
            body: Array(#"{"action":5,"repository":"x","commits":{"a":1},"deleted":"no"}"#.utf8))
        #expect(odd.action == nil && odd.repository == nil && odd.commitCount == 0 && !odd.deleted)
    }

    @Test func formEncodedDeliveriesCarryTheDocumentInPayload() throws {
        let json = #"{"ref":"refs/heads/main","commits":[{"id":"a"},{"id":"b"}],"repository":{"full_name":"o/r"}}"#
        let encoded = json.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? ""
        let payload = try GitHubPayload(body: Array(("payload=" + encoded).utf8))
        #expect(payload.formEncoded && payload.commitCount == 2 && payload.repository == "o/r")
        #expect(throws: MalformedPayload.self) { try GitHubPayload(body: Array("payload=%ZZ".utf8)) }
    }

    @Test func bodiesThatAreNotJSONObjectsAreMalformed() {
        for body in ["", "[]", "null", "\"text\"", "{", "payload", "{\"a\":}"] {
            #expect(throws: MalformedPayload.self, "\(body)") { try GitHubPayload(body: Array(body.utf8)) }
        }
    }

    @Test func decisionsFollowTheEventAndThePush() throws {
        let push = try GitHubPayload(
            body: Array(
                #"{"ref":"refs/heads/main","after":"abc","commits":[{}],"repository":{"full_name":"O/R"}}"#.utf8))
        let all = Pipeline.allCases
        #expect(
            DeliveryDecision.decide(event: "push", payload: push, pipelines: all, repositories: [])
                == .jobs(all.sorted()))
        #expect(
            DeliveryDecision.decide(event: "push", payload: push, pipelines: all, repositories: ["o/r"])
                == .jobs(all.sorted()))
        guard
            case .ignored = DeliveryDecision.decide(event: "push", payload: push, pipelines: all, repositories: ["o/x"])
        else {
            Issue.record("a repository outside the allow-list made jobs")
            return
        }
        guard case .ignored = DeliveryDecision.decide(event: "ping", payload: push, pipelines: all, repositories: [])
        else {
            Issue.record("ping made jobs")
            return
        }
        guard case .ignored = DeliveryDecision.decide(event: "issues", payload: push, pipelines: all, repositories: [])
        else {
            Issue.record("an issues event made jobs")
            return
        }
    }
}
