import Foundation
import HTTPTypes
import HummingbirdTesting
import Testing

/// The admin console's files as the server answers them: under their own Content-Security-Policy (the
/// page's own scripts and styles, requests to this origin only), with validators, and nothing outside
/// the folder reachable; API answers keep the policy that runs nothing.
@Suite(.timeLimit(.minutes(2))) struct ConsoleServingTests {
    static let policy = HTTPField.Name("Content-Security-Policy")!

    @Test func theConsoleIsServedUnderItsOwnPolicy() async throws {
        try await TestEnvironment.withApp { client in
            let bare = try await client.send(.get, "/console")
            #expect(bare.status == .permanentRedirect && bare.headers[.location] == "/console/")

            let index = try await client.send(.get, "/console/")
            #expect(index.status == .ok)
            #expect(index.headers[.contentType] == "text/html; charset=utf-8")
            let policy = try #require(index.headers[Self.policy])
            #expect(policy.contains("script-src 'self'") && policy.contains("connect-src 'self'"))
            #expect(policy.contains("frame-ancestors 'none'") && !policy.contains("unsafe"))
            #expect(index.headers[.xFrameOptions] == "DENY")
            #expect(String(buffer: index.body).contains(#"<script type="module" src="/console/app.js">"#))

            let script = try await client.send(.get, "/console/app.js")
            #expect(script.status == .ok && script.headers[.contentType] == "text/javascript; charset=utf-8")
            let etag = try #require(script.headers[.eTag])
            let again = try await client.send(.get, "/console/app.js", headers: [.ifNoneMatch: etag])
            #expect(again.status == .notModified && again.body.readableBytes == 0)
            #expect(try await client.send(.get, "/console/pages/keys.js").status == .ok)

            let api = try await client.send(.get, "/healthz")
            #expect(api.headers[Self.policy] == "default-src 'none'; frame-ancestors 'none'")
        }
    }

    @Test func nothingOutsideTheFolderIsReachable() async throws {
        try await TestEnvironment.withApp { client in
            for path in [
                "/console/../openapi.yaml", "/console/%2e%2e/openapi.yaml", "/console/pages/../../Package.swift",
                "/console/.hidden", "/console/nope.js", "/console/index.html%00.js", "/console/style.css.map",
            ] {
                let answer = try await client.send(.get, path)
                // 404, or 400 for a path the edge refuses outright (a NUL in it).
                #expect([404, 400].contains(answer.status.code), "\(path) answered \(answer.status)")
                #expect(answer.headers[.contentType] == "application/problem+json", "\(path)")
                #expect(!String(buffer: answer.body).contains("swift-tools-version"), "\(path)")
            }
        }
    }

    /// What the policy enforces in a browser, checked in the files: no inline script or style, no
    /// markup built from strings.
    @Test func theFilesNeedNothingThePolicyForbids() throws {
        let root = URL(fileURLWithPath: "console")
        let walker = try #require(FileManager.default.enumerator(at: root, includingPropertiesForKeys: nil))
        var checked = 0
        for case let url as URL in walker where ["html", "js", "css"].contains(url.pathExtension) {
            let text = try String(contentsOf: url, encoding: .utf8)
            checked += 1
            if url.pathExtension == "html" {
                #expect(text.range(of: #"<script(?![^>]*\bsrc=)"#, options: .regularExpression) == nil, "\(url)")
                #expect(text.range(of: #"\sstyle="#, options: .regularExpression) == nil, "\(url)")
                #expect(text.range(of: #"\son[a-z]+="#, options: .regularExpression) == nil, "\(url)")
            }
            if url.pathExtension == "js" {
                for forbidden in [
                    "innerHTML", "outerHTML", "insertAdjacentHTML", "document.write", "eval(", "localStorage",
                    "sessionStorage", "document.cookie",
                ] {
                    #expect(!text.contains(forbidden), "\(url) uses \(forbidden)")
                }
            }
        }
        #expect(checked >= 5)
    }
}
