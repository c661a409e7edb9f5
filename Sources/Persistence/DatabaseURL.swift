import Foundation
import NIOSSL
import PostgresNIO

/// Turns a `postgres://user:password@host:port/database` URL into a client configuration.
public enum DatabaseURL {
    public enum ParseError: Error, CustomStringConvertible {
        case invalid(String)
        public var description: String {
            switch self {
            case .invalid(let reason): "invalid database URL: \(reason)"
            }
        }
    }

    /// Where and as whom `url` connects, for connections made outside the pool (the listener's).
    public struct Endpoint: Sendable {
        public let host: String
        public let port: Int
        public let username: String
        public let password: String?
        public let database: String?
        public let requireTLS: Bool
    }

    /// The endpoint of `url`.
    public static func endpoint(_ url: String) throws -> Endpoint {
        let configuration = try configuration(url)
        return Endpoint(
            host: configuration.host ?? "127.0.0.1", port: configuration.port ?? 5432, username: configuration.username,
            password: configuration.password, database: configuration.database,
            requireTLS: requiresTLS(url))
    }

    /// Whether `url` asks for TLS (`sslmode=require`), for the pool and the listener alike.
    static func requiresTLS(_ url: String) -> Bool {
        URLComponents(string: url)?.queryItems?.contains { $0.name == "sslmode" && $0.value == "require" } ?? false
    }

    /// The configuration for `url`; TLS is used when `sslmode=require` is given.
    public static func configuration(_ url: String) throws -> PostgresClient.Configuration {
        guard let components = URLComponents(string: url),
            components.scheme == "postgres" || components.scheme == "postgresql"
        else { throw ParseError.invalid("expected postgres://user:password@host:port/database") }
        guard let host = components.host, !host.isEmpty else { throw ParseError.invalid("missing host") }
        guard let user = components.user, !user.isEmpty else { throw ParseError.invalid("missing user") }
        let database = String(components.path.drop(while: { $0 == "/" }))
        let requireTLS = requiresTLS(url)
        var configuration = PostgresClient.Configuration(
            host: host,
            port: components.port ?? 5432,
            username: user.removingPercentEncoding ?? user,
            password: components.password?.removingPercentEncoding,
            database: database.isEmpty ? nil : database,
            tls: requireTLS ? .require(.makeClientConfiguration()) : .disable
        )
        configuration.options.additionalStartupParameters = [("application_name", "controlplane")]
        return configuration
    }
}
