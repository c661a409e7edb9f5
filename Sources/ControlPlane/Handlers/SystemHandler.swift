import Auth
import ControlPlaneAPI
import ControlPlaneAPITypes
import Edge
import Foundation
import OpenAPIRuntime
import Persistence
import RedisClient

/// Liveness, readiness, metrics and the JWKS document: the public routes that touch no tenant.
struct SystemHandler: Sendable {
    let database: Database
    let redis: RedisClient
    let keyring: SigningKeyring
    let metrics: HTTPMetrics
    /// Open once the startup checks have passed.
    let startup: StartupGate

    func getHealth(_ input: Operations.GetHealth.Input) async throws -> Operations.GetHealth.Output {
        .ok(.init(body: .json(.init(status: "ok"))))
    }

    func getReadiness(_ input: Operations.GetReadiness.Input) async throws -> Operations.GetReadiness.Output {
        var down = await ReadinessProbe(database: database, redis: redis).unreachable()
        if !startup.isOpen { down.append("startup checks (waiting for the database)") }
        guard down.isEmpty else {
            throw APIError(
                status: 503, code: .unavailable, title: "Service unavailable",
                detail: "Not reachable: \(down.joined(separator: ", ")).", retryAfter: 2)
        }
        return .ok(.init(body: .json(.init(status: "ready", checks: .init(postgres: "up", redis: "up")))))
    }

    func getMetrics(_ input: Operations.GetMetrics.Input) async throws -> Operations.GetMetrics.Output {
        .ok(.init(body: .plainText(HTTPBody(metrics.exposition()))))
    }

    func getJWKS(_ input: Operations.GetJWKS.Input) async throws -> Operations.GetJWKS.Output {
        let keys = keyring.verificationKeys().map { key -> Components.Schemas.Jwk in
            let jwk = key.jwk
            return .init(
                kty: jwk["kty"] ?? "", crv: jwk["crv"] ?? "", x: jwk["x"] ?? "", kid: jwk["kid"] ?? "",
                alg: jwk["alg"] ?? "", use: jwk["use"] ?? "")
        }
        return .ok(.init(body: .json(.init(keys: keys))))
    }
}
