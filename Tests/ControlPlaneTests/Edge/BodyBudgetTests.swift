import BlockingWork
import ControlPlane
import Foundation
import HummingbirdTesting
import TestKit
import Testing

#if canImport(Glibc)
    import Glibc
#endif

/// Bodies are read before anyone is authenticated, so the bytes being read are bounded per source (a
/// known webhook endpoint's tenant, else a client address) and in all: one tenant's flood of large
/// deliveries, over any number of its endpoints, holds its one share, and another tenant's deliveries are
/// still taken.
@Suite(.timeLimit(.minutes(3))) struct BodyBudgetTests {
    @Test func aFloodOfLargeBodiesHoldsOnlyItsTenantsShare() async throws {
        let configure: (inout Configuration) -> Void = { configuration in
            Self.budget(total: 8 << 20)(&configuration)
            configuration.http.refusalPacing = .milliseconds(400)
        }
        try await TestEnvironment.withApp(.live, configure: configure) { client in
            let port = try #require(client.port)
            let flooder = try await client.signup()
            let neighbour = try await client.signup()
            let flooded = try await client.createEndpoint(token: flooder.token, pipelines: ["commitments"])
            let another = try await client.createEndpoint(token: flooder.token, pipelines: ["commitments"])
            let theirs = try await client.createEndpoint(token: neighbour.token, pipelines: ["commitments"])
            let path = try #require(URL(string: flooded.url)?.path ?? Optional(flooded.url))
            let body = try GitHubFixtures.bytes(GitHubFixtures.push(commits: 1, seed: 901))
            // A first delivery makes an endpoint known: from then on it counts against its tenant's share.
            for endpoint in [flooded, another] {
                let first = try await client.deliver(endpoint.url, event: "push", body: body, secret: endpoint.secret)
                #expect(first.status == .accepted, "\(String(buffer: first.body))")
            }
            // Two deliveries of 1 MiB each, their bodies never sent: the endpoint's whole share is held.
            var holders = try Self.holdBodies(port: port, paths: [path, path])
            defer { for descriptor in holders { close(descriptor) } }
            try await Pause.for(.milliseconds(300))

            // A third is refused before its body is read, after the refusals' pause (at least half the pacing:
            // a sender that retries at once sends at the server's pace); so is one to the tenant's other endpoint.
            let started = ContinuousClock.now
            let refused = try await client.deliver(flooded.url, event: "push", body: body, secret: flooded.secret)
            try refused.expectProblem(503, "unavailable")
            #expect(ContinuousClock.now - started >= .milliseconds(200))
            #expect(refused.headers[.retryAfter] == "1")
            let toAnother = try await client.deliver(another.url, event: "push", body: body, secret: another.secret)
            try toAnother.expectProblem(503, "unavailable")
            // Another tenant's endpoint is its own source.
            let accepted = try await client.deliver(theirs.url, event: "push", body: body, secret: theirs.secret)
            #expect(accepted.status == .accepted, "\(String(buffer: accepted.body))")

            // The holders gone (closed, or cut off by the body deadline), the endpoint takes deliveries again.
            for descriptor in holders { close(descriptor) }
            holders = []
            let again = try await waitUntil(timeout: .seconds(5)) {
                try await client.deliver(flooded.url, event: "push", body: body, secret: flooded.secret).status
                    == .accepted
            }
            #expect(again != nil, "the endpoint's share was not given back")
        }
    }

    /// Deliveries to made-up endpoint ids are their client address's: each new id claims no share of
    /// its own, so a flood of them holds one address's share, and a known endpoint's deliveries are taken.
    @Test func madeUpEndpointIdsHoldOnlyTheirAddressesShare() async throws {
        try await TestEnvironment.withApp(.live, configure: Self.budget(total: 64 << 20)) { client in
            let port = try #require(client.port)
            let tenant = try await client.signup()
            let endpoint = try await client.createEndpoint(token: tenant.token, pipelines: ["commitments"])
            let body = try GitHubFixtures.bytes(GitHubFixtures.push(commits: 1, seed: 902))
            let first = try await client.deliver(endpoint.url, event: "push", body: body, secret: endpoint.secret)
            #expect(first.status == .accepted, "\(String(buffer: first.body))")

            let holders = try Self.holdBodies(port: port, paths: (0..<2).map { _ in "/v1/hooks/github/\(UUID())" })
            defer { for descriptor in holders { close(descriptor) } }
            try await Pause.for(.milliseconds(300))
            let madeUp = "/v1/hooks/github/\(UUID())"
            let refused = try await client.deliver(madeUp, event: "push", body: body, secret: "whatever")
            try refused.expectProblem(503, "unavailable")
            let accepted = try await client.deliver(endpoint.url, event: "push", body: body, secret: endpoint.secret)
            #expect(accepted.status == .accepted, "\(String(buffer: accepted.body))")
        }
    }

    /// A delivery that carries no signature verifies nothing, whatever its endpoint: it is refused
    /// before its body is read, so bodies without one cost no reading and hold no share.
    @Test func aDeliveryWithoutASignatureIsRefusedUnread() async throws {
        try await TestEnvironment.withApp(.live) { client in
            let port = try #require(client.port)
            let tenant = try await client.signup()
            let endpoint = try await client.createEndpoint(token: tenant.token, pipelines: ["commitments"])
            let path = try #require(URL(string: endpoint.url)?.path)
            for signature in ["", "X-Hub-Signature-256: sha1=0123\r\n"] {
                // The head declares 1 MiB and no byte of it follows: only an answer given unread arrives.
                let answer = try await RawHTTP.exchange(
                    port: port,
                    request: "POST \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                        + "X-GitHub-Event: push\r\n\(signature)Content-Length: \(1 << 20)\r\n\r\n{",
                    timeoutSeconds: 5)
                #expect(answer.hasPrefix("HTTP/1.1 401"), "\(answer.prefix(300))")
                #expect(answer.contains("signature_invalid"), "\(answer.prefix(300))")
            }
            // Another method on a delivery path is still the router's to answer.
            let put = try await client.send(.put, endpoint.url, raw: "{}", headers: [:])
            #expect(put.status.code == 405, "\(String(buffer: put.body))")
        }
    }

    /// A source reads its share's worth of bodies at once and then at its rate: a flood of large bodies
    /// costs the replica at most that much reading and hashing a second, whatever its sender can push;
    /// another tenant's deliveries are their own source's.
    @Test func aSourcesBodiesAreReadAtItsRate() async throws {
        let configure: (inout Configuration) -> Void = { configuration in
            Self.budget(total: 64 << 20)(&configuration)
            configuration.http.bodyBytesPerSecondPerSource = 1 << 20
        }
        try await TestEnvironment.withApp(.live, configure: configure) { client in
            let flooder = try await client.signup()
            let neighbour = try await client.signup()
            let flooded = try await client.createEndpoint(token: flooder.token, pipelines: ["commitments"])
            let theirs = try await client.createEndpoint(token: neighbour.token, pipelines: ["commitments"])
            let small = try GitHubFixtures.bytes(GitHubFixtures.push(commits: 1, seed: 903))
            let known = try await client.deliver(flooded.url, event: "push", body: small, secret: flooded.secret)
            #expect(known.status == .accepted, "\(String(buffer: known.body))")

            // Three bodies of 1 MiB (signed wrongly: read whole, then refused): the first two fit the 2 MiB
            // bucket, the third waits for about a second of refill.
            let large = [UInt8](repeating: UInt8(ascii: "x"), count: (1 << 20) - 64)
            let wrong = "sha256=" + String(repeating: "0", count: 64)
            let started = ContinuousClock.now
            for _ in 0..<3 {
                let refused = try await client.deliver(
                    flooded.url, event: "push", body: large, secret: nil, signature: wrong)
                try refused.expectProblem(401, "signature_invalid")
            }
            let took = ContinuousClock.now - started
            #expect(took >= .milliseconds(700), "3 MiB from one source read in \(took)")

            let accepted = try await client.deliver(theirs.url, event: "push", body: small, secret: theirs.secret)
            #expect(accepted.status == .accepted, "\(String(buffer: accepted.body))")
        }
    }

    /// Deliveries of at most 1 MiB, a share of 2 MiB per source and `total` bytes in all.
    static func budget(total: Int) -> (inout Configuration) -> Void {
        { configuration in
            configuration.http.webhookMaxBodyBytes = 1 << 20
            configuration.http.bodyBytesInFlightPerSource = 2 << 20
            configuration.http.bodyBytesInFlight = total
        }
    }

    /// Connections that each send a delivery's head declaring 1 MiB to one of `paths` (with a signature
    /// that has the right form, so the body is waited for), and then nothing.
    static func holdBodies(port: Int, paths: [String]) throws -> [Int32] {
        var holders: [Int32] = []
        let signature = "sha256=" + String(repeating: "0", count: 64)
        for path in paths {
            let head =
                "POST \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                + "X-GitHub-Event: push\r\nX-Hub-Signature-256: \(signature)\r\n"
                + "Content-Length: \(1 << 20)\r\n\r\n{"
            let descriptor = try RawHTTP.connected(port: port, receiveTimeout: timeval(tv_sec: 5, tv_usec: 0))
            holders.append(descriptor)
            _ = Array(head.utf8).withUnsafeBytes { send(descriptor, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
        }
        return holders
    }
}
