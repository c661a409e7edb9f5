import ArgumentParser
import AsyncHTTPClient
import Edge
import Foundation
import Settings

/// `controlplane healthcheck [--worker]`: asks this container's own `/healthz` (the API's port, or the
/// worker's with `--worker`) and exits 0 when it answers 200 within three seconds, 1 otherwise. It is
/// the image's `HEALTHCHECK`, so the image needs no curl.
struct HealthcheckCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "healthcheck", abstract: "Exit 0 when this host's /healthz answers 200.")

    @Flag(help: "Ask the worker's port (CP_WORKER_HTTP_PORT) instead of the API's (CP_HTTP_PORT).")
    var worker = false

    func run() async throws {
        let http: HTTPSettings
        do {
            http = try HTTPSettings(SettingsReader(ProcessInfo.processInfo.environment))
        } catch {
            print("no port to ask: \(error)")
            throw ExitCode.failure
        }
        let number = worker ? http.workerPort : http.port
        guard (1...65535).contains(number) else {
            print("no port to ask: \(number)")
            throw ExitCode.failure
        }
        do {
            let request = HTTPClientRequest(url: "http://127.0.0.1:\(number)/healthz")
            let response = try await HTTPClient.shared.execute(request, timeout: .seconds(3))
            guard response.status == .ok else {
                print("/healthz answered \(response.status.code)")
                throw ExitCode.failure
            }
        } catch let exit as ExitCode {
            throw exit
        } catch {
            print("/healthz did not answer: \(error)")
            throw ExitCode.failure
        }
    }
}
