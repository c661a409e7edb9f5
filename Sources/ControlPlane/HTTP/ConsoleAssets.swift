import BlockingWork
import Crypto
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import Synchronization

/// The admin console's files (HTML, JavaScript modules, CSS, SVG) served at `/console/`: read once from
/// `directory` on a thread of their own (never on the cooperative executor), then answered from memory
/// with a Content-Security-Policy that lets the page run only its own scripts and styles and talk only to
/// this server. The set is bounded (`maxFiles`, `maxBytes`); a name is letters, digits, `-`, `_` and `.`
/// per segment, never starting with a dot, so nothing outside the folder (or hidden in it) is reachable.
final class ConsoleAssets: Sendable {
    /// One file as answered.
    struct Asset: Sendable {
        let bytes: ByteBuffer
        let contentType: String
        let etag: String
    }

    /// The policy of every console answer: its own scripts, styles and images, requests to this origin
    /// only, no plugins, frames, inline script or inline style, and forms that post nowhere else.
    static let contentSecurityPolicy =
        "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
        + "form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
    static let contentTypes = [
        "html": "text/html; charset=utf-8", "js": "text/javascript; charset=utf-8", "css": "text/css; charset=utf-8",
        "svg": "image/svg+xml",
    ]
    static let maxFiles = 256
    static let maxBytes = 8 << 20
    private static let reading = BlockingWorkPool(threads: 1)

    let directory: String
    let logger: Logger
    private let loaded = Mutex<[String: Asset]?>(nil)

    init(directory: String, logger: Logger) {
        self.directory = directory
        self.logger = logger
    }

    /// The answer for the path under `/console/` (`[]` is the index), or nil when there is no such file.
    func response(for segments: [Substring], request: Request) async throws -> Response? {
        guard segments.allSatisfy(Self.isSafe) else { return nil }
        let name = segments.isEmpty ? "index.html" : segments.joined(separator: "/")
        guard let asset = try await files()[name] else { return nil }
        var headers: HTTPFields = [
            .eTag: asset.etag, .cacheControl: "no-cache", .contentSecurityPolicy: Self.contentSecurityPolicy,
        ]
        if request.headers[.ifNoneMatch] == asset.etag { return Response(status: .notModified, headers: headers) }
        headers[.contentType] = asset.contentType
        headers[.contentLength] = String(asset.bytes.readableBytes)
        return Response(status: .ok, headers: headers, body: ResponseBody(byteBuffer: asset.bytes))
    }

    static func isSafe(_ segment: Substring) -> Bool {
        guard let first = segment.first, first != "." else { return false }
        return segment.allSatisfy { $0.isASCII && ($0.isLetter || $0.isNumber || "-_.".contains($0)) }
    }

    private func files() async throws -> [String: Asset] {
        if let files = loaded.withLock({ $0 }) { return files }
        let directory = directory
        let files = try await Self.reading.run { try Self.read(directory) }
        if files.isEmpty { logger.warning("no console files", metadata: ["directory": "\(directory)"]) }
        loaded.withLock { $0 = files }
        return files
    }

    /// Every servable file under `directory` (an absent folder has none), keyed by its path in it.
    static func read(_ directory: String) throws -> [String: Asset] {
        let root = URL(fileURLWithPath: directory, isDirectory: true).standardizedFileURL
        guard let walker = FileManager.default.enumerator(at: root, includingPropertiesForKeys: [.isRegularFileKey])
        else { return [:] }
        var files: [String: Asset] = [:]
        var total = 0
        for case let url as URL in walker {
            guard (try url.resourceValues(forKeys: [.isRegularFileKey])).isRegularFile == true,
                let type = contentTypes[url.pathExtension]
            else { continue }
            let name = String(url.standardizedFileURL.path.dropFirst(root.path.count + 1))
            guard name.split(separator: "/").allSatisfy(isSafe) else { continue }
            let data = try Data(contentsOf: url)
            total += data.count
            guard files.count < maxFiles, total <= maxBytes else { throw ConsoleTooLarge(directory: directory) }
            let digest = SHA256.hash(data: data).prefix(12).map { String(format: "%02x", $0) }.joined()
            files[name] = Asset(bytes: ByteBuffer(bytes: data), contentType: type, etag: "\"\(digest)\"")
        }
        return files
    }
}

/// The console folder holds more files or bytes than `ConsoleAssets` serves.
struct ConsoleTooLarge: Error, CustomStringConvertible {
    let directory: String
    var description: String {
        "\(directory) holds more than \(ConsoleAssets.maxFiles) files or \(ConsoleAssets.maxBytes) bytes"
    }
}
