import Edge
import Foundation
import Logging

/// Writes one JSON object per log line to standard output: time, level, label, message and metadata
/// (including `request_id`, supplied by `RequestScope.metadataProvider` while a request is handled).
/// Lines are written by `LogLineWriter`'s own thread, never by the task that logs.
public struct JSONLogHandler: LogHandler {
    public var metadata: Logger.Metadata = [:]
    public var logLevel: Logger.Level
    public var metadataProvider: Logger.MetadataProvider?
    private let label: String

    /// Where the lines go: standard output for the servers, standard error for commands whose standard
    /// output is their answer (a token, say).
    private let toStandardError: Bool

    public init(
        label: String, level: Logger.Level, metadataProvider: Logger.MetadataProvider?, toStandardError: Bool = false
    ) {
        self.label = label
        self.toStandardError = toStandardError
        self.logLevel = level
        self.metadataProvider = metadataProvider
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        var merged = metadata
        if let provided = metadataProvider?.get() { merged.merge(provided) { $1 } }
        if let extra = event.metadata { merged.merge(extra) { $1 } }
        var object: [String: Any] = [
            "time": ISO8601DateFormatter.string(
                from: Date(), timeZone: .gmt, formatOptions: [.withInternetDateTime, .withFractionalSeconds]),
            "level": event.level.rawValue, "logger": label, "message": event.message.description,
        ]
        for (key, value) in merged { object[key] = Self.json(value) }
        guard
            var line = try? JSONSerialization.data(
                withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])
        else { return }
        line.append(0x0A)
        (toStandardError ? LogLineWriter.standardError : LogLineWriter.standardOutput).write(line)
    }

    private static func json(_ value: Logger.Metadata.Value) -> Any {
        switch value {
        case .string(let text): text
        case .stringConvertible(let convertible): convertible.description
        case .array(let values): values.map(json)
        case .dictionary(let values): values.mapValues(json)
        }
    }
}
