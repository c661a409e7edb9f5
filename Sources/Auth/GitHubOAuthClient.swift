import AsyncHTTPClient
import Foundation
import NIOCore
import Providers

/// The two calls of GitHub's OAuth web flow after the browser comes back: the code exchanged for a
/// token (with the PKCE verifier), then the account's emails. GitHub answers a refused exchange with
/// HTTP 200 and an `error` field; both outcomes are read.
package struct GitHubOAuthClient: Sendable {
    package let settings: GitHubSignInSettings
    package let client: HTTPClient
    package let timeout: TimeAmount = .seconds(10)

    package init(settings: GitHubSignInSettings, client: HTTPClient) {
        self.settings = settings
        self.client = client
    }

    /// One email of the account, as `GET /user/emails` lists it.
    package struct Email: Decodable, Sendable {
        package let email: String
        package let primary: Bool
        package let verified: Bool
    }

    package enum Failure: Error {
        /// GitHub refused the code (`bad_verification_code`, `incorrect_client_credentials`, ...).
        case refused(String)
        /// GitHub could not be reached or answered something unreadable.
        case unavailable
    }

    /// The authorize URL the browser is sent to.
    package func authorizeURL(state: String, codeChallenge: String) -> String {
        var components = URLComponents(string: settings.oauthBaseURL + "/login/oauth/authorize")
        components?.queryItems = [
            URLQueryItem(name: "client_id", value: settings.clientID),
            URLQueryItem(name: "redirect_uri", value: settings.redirectURL),
            URLQueryItem(name: "scope", value: "user:email"),
            URLQueryItem(name: "state", value: state),
            URLQueryItem(name: "code_challenge", value: codeChallenge),
            URLQueryItem(name: "code_challenge_method", value: "S256"),
            URLQueryItem(name: "allow_signup", value: "false"),
        ]
        return components?.url?.absoluteString ?? settings.oauthBaseURL
    }

    /// Exchanges `code` for a user access token.
    package func exchange(code: String, verifier: String) async throws(Failure) -> String {
        var request = HTTPClientRequest(url: settings.oauthBaseURL + "/login/oauth/access_token")
        request.method = .POST
        request.headers.add(name: "Accept", value: "application/json")
        request.headers.add(name: "Content-Type", value: "application/x-www-form-urlencoded")
        request.headers.add(name: "User-Agent", value: "ControlPlane")
        let form = [
            ("client_id", settings.clientID), ("client_secret", settings.clientSecret), ("code", code),
            ("redirect_uri", settings.redirectURL), ("code_verifier", verifier),
        ]
        request.body = .bytes(ByteBuffer(string: form.map { "\($0)=\(Self.formEncoded($1))" }.joined(separator: "&")))
        struct Answer: Decodable {
            let accessToken: String?
            let error: String?

            enum CodingKeys: String, CodingKey {
                case accessToken = "access_token"
                case error
            }
        }
        let answer: Answer = try await send(request)
        guard let token = answer.accessToken, !token.isEmpty else {
            throw .refused(answer.error.map { String($0.prefix(64)) } ?? "no_access_token")
        }
        return token
    }

    /// The account's emails.
    package func emails(token: String) async throws(Failure) -> [Email] {
        var request = HTTPClientRequest(url: settings.apiBaseURL + "/user/emails")
        request.headers.add(name: "Accept", value: "application/vnd.github+json")
        request.headers.add(name: "Authorization", value: "Bearer \(token)")
        request.headers.add(name: "X-GitHub-Api-Version", value: "2022-11-28")
        request.headers.add(name: "User-Agent", value: "ControlPlane")
        return try await send(request)
    }

    private func send<Answer: Decodable>(_ request: HTTPClientRequest) async throws(Failure) -> Answer {
        let body: ByteBuffer
        let status: UInt
        do {
            // One deadline for the exchange, the answer's body included.
            (status, body) = try await withDeadline(.now + .seconds(10)) { [client, timeout] in
                let response = try await client.execute(request, timeout: timeout)
                return (response.status.code, try await response.body.collect(upTo: 1 << 20))
            }
        } catch {
            throw .unavailable
        }
        if status == 401 || status == 403 { throw .refused("api_\(status)") }
        guard (200..<300).contains(status),
            let answer = try? JSONDecoder().decode(Answer.self, from: Data(body.readableBytesView))
        else {
            throw .unavailable
        }
        return answer
    }

    package static func formEncoded(_ value: String) -> String {
        var allowed = CharacterSet.alphanumerics.intersection(
            CharacterSet(charactersIn: Unicode.Scalar(0)...Unicode.Scalar(127)))
        allowed.insert(charactersIn: "-._~")
        return value.addingPercentEncoding(withAllowedCharacters: allowed) ?? ""
    }
}
