import AsyncHTTPClient
import Auth
import ControlPlane
import Crypto
import Foundation
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import Persistence
import Synchronization
import Testing

/// A local stand-in for GitHub's OAuth web flow and `GET /user/emails`, with GitHub's response shapes:
/// the authorize page redirects back with a code bound to the PKCE challenge; the token endpoint answers
/// HTTP 200 with `error` when it refuses (a used code, a wrong verifier, wrong client credentials); the
/// emails endpoint answers 401 `Bad credentials` to an unknown token.
final class FakeGitHub: Sendable {
    struct Grant: Sendable {
        let challenge: String
        let redirect: String
        let emails: [[String: any Sendable]]
        var used = false
    }

    static let clientID = "Iv1.fakeclient"
    static let clientSecret = "fake-client-secret"

    /// The emails of whoever "signs in" at the authorize page next.
    let account = Mutex<[[String: any Sendable]]>([])
    let grants = Mutex<[String: Grant]>([:])
    let tokens = Mutex<[String: [[String: any Sendable]]]>([:])
    let exchanges = Mutex(0)

    func run<Value: Sendable>(_ body: @Sendable (String) async throws -> Value) async throws -> Value {
        let router = Router()
        router.get("/login/oauth/authorize") { request, _ -> Response in
            let query = request.uri.queryParameters
            guard query["client_id"].map(String.init) == Self.clientID, query["code_challenge_method"] == "S256",
                let challenge = query["code_challenge"].map(String.init),
                let redirect = query["redirect_uri"].map(String.init), let state = query["state"].map(String.init)
            else { return Response(status: .badRequest) }
            let code = UUID().uuidString.replacingOccurrences(of: "-", with: "").prefix(20).lowercased()
            let emails = self.account.withLock { $0 }
            self.grants.withLock { $0[code] = Grant(challenge: challenge, redirect: redirect, emails: emails) }
            var location = URLComponents(string: redirect)!
            location.queryItems = [URLQueryItem(name: "code", value: code), URLQueryItem(name: "state", value: state)]
            return Response(status: .found, headers: [.location: location.url!.absoluteString])
        }
        router.post("/login/oauth/access_token") { request, _ -> Response in
            self.exchanges.withLock { $0 += 1 }
            let text = String(buffer: try await request.body.collect(upTo: 65536))
            var form: [String: String] = [:]
            for pair in text.split(separator: "&") {
                let parts = pair.split(separator: "=", maxSplits: 1).map { String($0).removingPercentEncoding ?? "" }
                if parts.count == 2 { form[parts[0]] = parts[1] }
            }
            guard form["client_id"] == Self.clientID, form["client_secret"] == Self.clientSecret else {
                return Self.json(
                    Self.error(
                        "incorrect_client_credentials", "The client_id and/or client_secret passed are incorrect."))
            }
            let code = form["code"] ?? ""
            let verifier = form["code_verifier"] ?? ""
            let challenge = Base64URL.encode(Data(SHA256.hash(data: Data(verifier.utf8))))
            let granted = self.grants.withLock { grants -> Grant? in
                guard var grant = grants[code], !grant.used, grant.challenge == challenge,
                    grant.redirect == form["redirect_uri"]
                else { return nil }
                grant.used = true
                grants[code] = grant
                return grant
            }
            guard let granted else {
                return Self.json(Self.error("bad_verification_code", "The code passed is incorrect or expired."))
            }
            let token = "gho_" + UUID().uuidString.replacingOccurrences(of: "-", with: "")
            self.tokens.withLock { $0[token] = granted.emails }
            return Self.json(["access_token": token, "token_type": "bearer", "scope": "user:email"])
        }
        router.get("/user/emails") { request, _ -> Response in
            let bearer = request.headers[.authorization].map { String($0.dropFirst("Bearer ".count)) } ?? ""
            guard let emails = self.tokens.withLock({ $0[bearer] }) else {
                return Self.json(
                    [
                        "message": "Bad credentials", "documentation_url": "https://docs.github.com/rest",
                        "status": "401",
                    ],
                    status: .unauthorized)
            }
            return Self.json(emails)
        }
        return try await withLoopbackServer(router, label: "fake-github") { try await body("http://127.0.0.1:\($0)") }
    }

    static func error(_ code: String, _ description: String) -> [String: any Sendable] {
        ["error": code, "error_description": description, "error_uri": "https://docs.github.com/apps"]
    }

    static func json(_ object: any Sendable, status: HTTPResponse.Status = .ok) -> Response {
        let data = (try? JSONSerialization.data(withJSONObject: object)) ?? Data()
        return Response(
            status: status, headers: [.contentType: "application/json; charset=utf-8"],
            body: .init(byteBuffer: ByteBuffer(bytes: Array(data))))
    }

    static func email(_ address: String, primary: Bool = true, verified: Bool = true) -> [String: any Sendable] {
        ["email": address, "primary": primary, "verified": verified, "visibility": primary ? "public" : "private"]
    }
}

/// Issue 9, sign in with GitHub: the OAuth web flow with state and PKCE against the local fake, and the
/// ways it must fail.
@Suite(.timeLimit(.minutes(3))) struct GitHubSignInTests {
    static func configure(_ base: String) -> (inout Configuration) -> Void {
        { configuration in
            configuration.auth.gitHubSignIn = GitHubSignInSettings(
                clientID: FakeGitHub.clientID, clientSecret: FakeGitHub.clientSecret,
                redirectURL: "https://cp.example.test/v1/auth/github/callback", oauthBaseURL: base, apiBaseURL: base)
        }
    }

    /// Follows the flow as a browser would: start, GitHub's authorize page, back to the callback.
    static func signIn(_ client: any TestClientProtocol) async throws -> (code: String, state: String, cookie: String) {
        let start = try await client.send(.get, "/v1/auth/github/start")
        #expect(start.status == .found)
        let setCookie = try #require(start.headers[.setCookie])
        #expect(
            setCookie.contains("HttpOnly") && setCookie.contains("Secure") && setCookie.contains("SameSite=Lax"),
            "\(setCookie)")
        let cookie = String(setCookie.prefix { $0 != ";" })
        let location = try #require(start.headers[.location])
        let authorize = try #require(URLComponents(string: location))
        let query = Dictionary(uniqueKeysWithValues: (authorize.queryItems ?? []).map { ($0.name, $0.value ?? "") })
        #expect(query["client_id"] == FakeGitHub.clientID && query["code_challenge_method"] == "S256")
        #expect(query["scope"] == "user:email" && (query["state"]?.count ?? 0) >= 32)
        #expect(query["redirect_uri"] == "https://cp.example.test/v1/auth/github/callback")
        let noRedirects = HTTPClient(configuration: .init(redirectConfiguration: .disallow))
        let response: HTTPClientResponse
        do {
            response = try await noRedirects.execute(HTTPClientRequest(url: location), timeout: .seconds(5))
            try await noRedirects.shutdown()
        } catch {
            try? await noRedirects.shutdown()
            throw error
        }
        #expect(response.status == .found)
        let back = try #require(URLComponents(string: response.headers.first(name: "location") ?? ""))
        let answer = Dictionary(uniqueKeysWithValues: (back.queryItems ?? []).map { ($0.name, $0.value ?? "") })
        return (answer["code"] ?? "", answer["state"] ?? "", cookie)
    }

    /// The callback as the browser that holds `cookie` (the start's `cp_github_signin=...`) calls it.
    static func callback(_ client: any TestClientProtocol, code: String, state: String, cookie: String?) async throws
        -> TestResponse
    {
        var headers: HTTPFields = [:]
        if let cookie { headers[.cookie] = "theme=dark; \(cookie)" }
        return try await client.send(
            .get,
            "/v1/auth/github/callback?code=\(code)&state=\(state.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? "")",
            headers: headers)
    }

    @Test func aVerifiedPrimaryEmailSignsInOnceAndEveryFailureIsRefused() async throws {
        let github = FakeGitHub()
        try await github.run { base in
            try await TestEnvironment.withApp(configure: Self.configure(base)) { client in
                let tenant = try await client.signup()
                github.account.withLock {
                    $0 = [
                        FakeGitHub.email("other@elsewhere.test", primary: false),
                        FakeGitHub.email(tenant.email.uppercased()),
                    ]
                }
                let flow = try await Self.signIn(client)
                // Another browser (no cookie, or its own sign-in's) cannot finish it, and does not use it up.
                let elsewhere = try await Self.signIn(client)
                for cookie in [nil, elsewhere.cookie] {
                    try await Self.callback(client, code: flow.code, state: flow.state, cookie: cookie).expectProblem(
                        401, "unauthenticated")
                }
                let signedIn = try await Self.callback(client, code: flow.code, state: flow.state, cookie: flow.cookie)
                    .session()
                #expect(try await client.send(.get, "/v1/tenant", token: signedIn.access).status == .ok)
                #expect(try await client.refresh(signedIn.refresh).status == .ok)

                // The same callback again: the state is used.
                try await Self.callback(client, code: flow.code, state: flow.state, cookie: flow.cookie).expectProblem(
                    401, "unauthenticated")
                // The code again with a fresh state: GitHub refuses it (used, and not this verifier's).
                let fresh = try await Self.signIn(client)
                let before = github.exchanges.withLock { $0 }
                try await Self.callback(client, code: flow.code, state: fresh.state, cookie: fresh.cookie)
                    .expectProblem(
                        401, "unauthenticated")
                #expect(github.exchanges.withLock { $0 } == before + 1)
                // A state this server never issued: refused before GitHub is asked.
                let another = try await Self.signIn(client)
                try await Self.callback(client, code: another.code, state: "forged-\(UUID())", cookie: another.cookie)
                    .expectProblem(401, "unauthenticated")
                #expect(github.exchanges.withLock { $0 } == before + 1)

                // An unverified primary email, even one an account has; a verified one no account has; a
                // secondary email that matches is not enough.
                for emails in [
                    [FakeGitHub.email(tenant.email, verified: false)],
                    [FakeGitHub.email("nobody-\(UUID())@example.test")],
                    [
                        FakeGitHub.email("nobody-\(UUID())@example.test"),
                        FakeGitHub.email(tenant.email, primary: false),
                    ],
                ] {
                    github.account.withLock { $0 = emails }
                    let attempt = try await Self.signIn(client)
                    let refused = try await Self.callback(
                        client, code: attempt.code, state: attempt.state, cookie: attempt.cookie)
                    try refused.expectProblem(401, "unauthenticated")
                }
                // GitHub sending the browser back with an error; a callback without code or state.
                try await client.send(.get, "/v1/auth/github/callback?error=access_denied&state=x")
                    .expectProblem(401, "unauthenticated")
                // Nothing to finish: unauthenticated, as every other callback that signs no one in.
                try await client.send(.get, "/v1/auth/github/callback").expectProblem(401, "unauthenticated")
                try await client.send(.get, "/v1/auth/github/callback?state=0").expectProblem(401, "unauthenticated")

                let audit = try await client.send(.get, "/v1/audit-log", token: tenant.token).jsonObject()
                let logins = (audit["items"] as? [[String: Any]] ?? []).filter {
                    $0["action"] as? String == "user.login"
                        && ($0["details"] as? [String: String])?["method"] == "github"
                }
                #expect(logins.count == 1)
            }
        }
    }

    @Test func anExpiredStateIsRefused() async throws {
        let github = FakeGitHub()
        let clock = ServerClock()
        try await github.run { base in
            try await TestEnvironment.withApp(configure: {
                Self.configure(base)(&$0)
                $0.clock = clock
            }) { client in
                let tenant = try await client.signup()
                github.account.withLock { $0 = [FakeGitHub.email(tenant.email)] }
                let flow = try await Self.signIn(client)
                clock.advance(by: .seconds(601))
                try await Self.callback(client, code: flow.code, state: flow.state, cookie: flow.cookie).expectProblem(
                    401, "unauthenticated")
            }
        }
    }

    /// The browser arriving from GitHub is sent on to the console with the query in the fragment, using
    /// nothing up; the console's own call of the callback then signs in.
    @Test func theBrowserArrivingIsSentOnToTheConsole() async throws {
        let github = FakeGitHub()
        try await github.run { base in
            try await TestEnvironment.withApp(configure: Self.configure(base)) { client in
                let methods = try await client.send(.get, "/v1/auth/methods").jsonObject()
                #expect(methods["password"] as? Bool == true && methods["github"] as? Bool == true)
                let tenant = try await client.signup()
                github.account.withLock { $0 = [FakeGitHub.email(tenant.email)] }
                let flow = try await Self.signIn(client)
                let state = flow.state.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? ""
                let arrival = try await client.send(
                    .get, "/v1/auth/github/callback?code=\(flow.code)&state=\(state)",
                    headers: [.cookie: flow.cookie, HTTPField.Name("Sec-Fetch-Mode")!: "navigate"])
                #expect(arrival.status == .seeOther)
                let location = try #require(arrival.headers[.location])
                #expect(location.hasPrefix("/console/#/github?code=\(flow.code)&state="), "\(location)")
                let fragment = try #require(
                    URLComponents(string: "/x?" + location.split(separator: "?", maxSplits: 1)[1]))
                let values = Dictionary(uniqueKeysWithValues: (fragment.queryItems ?? []).map { ($0.name, $0.value) })
                #expect(values["state"] == flow.state, "the state arrives as GitHub sent it")
                #expect(github.exchanges.withLock { $0 } == 0, "nothing was exchanged on the way through")

                let signedIn = try await Self.callback(client, code: flow.code, state: flow.state, cookie: flow.cookie)
                    .session()
                #expect(try await client.send(.get, "/v1/tenant", token: signedIn.access).status == .ok)
            }
        }
    }

    @Test func withoutAnOAuthAppTheRoutesAreNotFound() async throws {
        try await TestEnvironment.withApp { client in
            let methods = try await client.send(.get, "/v1/auth/methods").jsonObject()
            #expect(methods["password"] as? Bool == true && methods["github"] as? Bool == false)
            try await client.send(.get, "/v1/auth/github/start").expectProblem(404, "not_found")
            try await client.send(.get, "/v1/auth/github/callback?code=a&state=b").expectProblem(404, "not_found")
            try await client.send(
                .get, "/v1/auth/github/callback?code=a&state=b",
                headers: [HTTPField.Name("Sec-Fetch-Mode")!: "navigate"]
            ).expectProblem(404, "not_found")
        }
    }
}
