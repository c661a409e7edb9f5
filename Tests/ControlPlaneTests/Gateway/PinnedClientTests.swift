import AsyncHTTPClient
import BlockingWork
import Foundation
import NIOCore
import Providers
import TestKit
import Testing

/// Clients pinned to checked addresses are bounded, but evicting a pin (another tenant's new URL, say)
/// never cuts a call in flight on it: the client is shut down once the last call holding it is done.
@Suite(.timeLimit(.minutes(2))) struct PinnedClientTests {
    @Test func evictingAPinNeverCutsACallInFlightOnIt() async throws {
        let fake = FakeProviderServer()
        try await fake.run { port in
            let pins = PinnedClients(capacity: 1)
            var first: PinnedClients.Lease? = pins.client(host: "first.test", address: "127.0.0.1")
            let client = try #require(first?.client)
            @Sendable func slowCall(_ client: HTTPClient) async throws -> UInt {
                var request = HTTPClientRequest(url: "http://first.test:\(port)/v1/chat/completions")
                request.method = .POST
                request.headers.add(name: "Content-Type", value: "application/json")
                request.headers.add(name: "Authorization", value: "Bearer sk-test")
                request.body = .bytes(
                    ByteBuffer(string: #"{"model":"slow","messages":[{"role":"user","content":"hi"}]}"#))
                return try await client.execute(request, timeout: .seconds(20)).status.code
            }
            let call = Task { [first] in
                defer { withExtendedLifetime(first) {} }
                return try await slowCall(client)
            }
            try await Pause.for(.milliseconds(500))
            // A second pin passes the capacity: the first is evicted while its call is still answering.
            let second = pins.client(host: "second.test", address: "127.0.0.1")
            #expect(pins.count == 1)
            #expect(try await call.value == 200, "the call in flight on the evicted pin was cut")
            withExtendedLifetime(second) {}

            // Its last lease gone, the evicted client is shut down.
            first = nil
            _ = try await call.value
            let closed = try await waitUntil(timeout: .seconds(5)) {
                do {
                    _ = try await slowCall(client)
                    return false
                } catch let error as HTTPClientError where error == .alreadyShutdown {
                    return true
                } catch {
                    return false
                }
            }
            #expect(closed != nil, "the evicted client was never shut down")
            await pins.shutdown()
        }
    }
}
