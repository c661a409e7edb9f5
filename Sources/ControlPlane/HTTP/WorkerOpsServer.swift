import Edge
import Foundation
import Hummingbird
import Logging
import RedisClient

/// A worker process's own small HTTP server (`CP_WORKER_HTTP_PORT`, on `CP_HTTP_HOST`): `/healthz`
/// (the process runs), `/readyz` (Postgres and Redis answer) and `/metrics` (the runtime's metrics),
/// with the same bodies as the API's routes of those names in `openapi.yaml`. It serves nothing else:
/// the API is `controlplane serve`.
enum WorkerOpsServer {
    static func build(
        _ configuration: Configuration, metrics: HTTPMetrics, readiness: ReadinessProbe, logger: Logger
    ) -> some ApplicationProtocol {
        let router = Router()
        router.get("/healthz") { _, _ in json(#"{"status":"ok"}"#) }
        router.get("/readyz") { _, _ in
            let down = await readiness.unreachable()
            guard down.isEmpty else {
                let problem = APIError.unavailable("Not reachable: \(down.joined(separator: ", ")).")
                return Response(
                    status: .init(code: problem.status), headers: problem.headerFields,
                    body: .init(byteBuffer: ByteBuffer(data: problem.body(requestID: ""))))
            }
            return json(#"{"checks":{"postgres":"up","redis":"up"},"status":"ready"}"#)
        }
        router.get("/metrics") { _, _ in
            Response(
                status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                body: .init(byteBuffer: ByteBuffer(string: metrics.exposition())))
        }
        return Application(
            router: router,
            configuration: .init(
                address: .hostname(configuration.http.host, port: configuration.http.workerPort), serverName: nil),
            logger: logger)
    }

    private static func json(_ text: String) -> Response {
        Response(
            status: .ok, headers: [.contentType: "application/json"],
            body: .init(byteBuffer: ByteBuffer(string: text)))
    }
}
