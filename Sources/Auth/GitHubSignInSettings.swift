import Foundation
import Settings

/// The OAuth app a deployment signs people in with (`CP_GITHUB_*`). GitHub's addresses are settings so
/// that GitHub Enterprise Server, and the tests' local fake, can stand in for github.com.
public struct GitHubSignInSettings: Sendable {
    public var clientID: String
    public var clientSecret: String
    /// The callback URL registered with the OAuth app: this deployment's `/v1/auth/github/callback`.
    public var redirectURL: String
    /// Where `login/oauth/authorize` and `login/oauth/access_token` are (`https://github.com`).
    public var oauthBaseURL: String
    /// Where the REST API is (`https://api.github.com`).
    public var apiBaseURL: String
    /// How long a started sign-in may take.
    public var stateLifetime: Duration = .seconds(600)

    public init(clientID: String, clientSecret: String, redirectURL: String, oauthBaseURL: String, apiBaseURL: String) {
        self.clientID = clientID
        self.clientSecret = clientSecret
        self.redirectURL = redirectURL
        self.oauthBaseURL = oauthBaseURL.hasSuffix("/") ? String(oauthBaseURL.dropLast()) : oauthBaseURL
        self.apiBaseURL = apiBaseURL.hasSuffix("/") ? String(apiBaseURL.dropLast()) : apiBaseURL
    }

    /// The settings `reader` finds; nil when no client id is set (GitHub sign-in off).
    static func read(_ reader: SettingsReader) throws -> GitHubSignInSettings? {
        let clientID = reader.optional("CP_GITHUB_CLIENT_ID")
        let secret = reader.optional("CP_GITHUB_CLIENT_SECRET")
        let redirect = reader.optional("CP_GITHUB_REDIRECT_URL")
        let oauth = reader.string("CP_GITHUB_OAUTH_URL", "https://github.com")
        let api = reader.string("CP_GITHUB_API_URL", "https://api.github.com")
        guard let clientID else { return nil }
        guard let secret else { throw ConfigurationError.missing("CP_GITHUB_CLIENT_SECRET") }
        guard let redirect else { throw ConfigurationError.missing("CP_GITHUB_REDIRECT_URL") }
        guard URL(string: redirect)?.host != nil else {
            throw ConfigurationError.invalid("CP_GITHUB_REDIRECT_URL", redirect)
        }
        for (name, url) in [("CP_GITHUB_OAUTH_URL", oauth), ("CP_GITHUB_API_URL", api)] {
            guard let parsed = URL(string: url), ["http", "https"].contains(parsed.scheme ?? ""), parsed.host != nil
            else { throw ConfigurationError.invalid(name, url) }
        }
        return GitHubSignInSettings(
            clientID: clientID, clientSecret: secret, redirectURL: redirect, oauthBaseURL: oauth, apiBaseURL: api)
    }
}
