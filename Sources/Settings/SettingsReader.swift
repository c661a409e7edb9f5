import Foundation
import Synchronization

/// Reads a process's settings from its `CP_*` environment variables, each with a documented default and
/// range. Every module's settings type reads its own variables through one of these, and the reader keeps
/// the name of each variable it was asked for, as the README documents it (a family of variables such as
/// `CP_<PROVIDER>_API_KEY` under that one name), so a test can hold the README's table to the code.
public final class SettingsReader: Sendable {
    private let environment: [String: String]
    private let asked = Mutex<[String]>([])

    public init(_ environment: [String: String]) { self.environment = environment }

    /// The documented names of every variable read so far, in the order first asked for.
    public var names: [String] {
        asked.withLock { names in
            var seen = Set<String>()
            return names.filter { seen.insert($0).inserted }
        }
    }

    /// The variable's value; nil when it is unset or empty.
    public func optional(_ name: String, documentedAs documented: String? = nil) -> String? {
        asked.withLock { $0.append(documented ?? name) }
        return environment[name].flatMap { $0.isEmpty ? nil : $0 }
    }

    public func string(_ name: String, _ fallback: String, documentedAs documented: String? = nil) -> String {
        optional(name, documentedAs: documented) ?? fallback
    }

    /// A whole number within `range`; any other text is refused, naming the variable.
    public func integer(
        _ name: String, _ fallback: Int, _ range: ClosedRange<Int> = 0...Int(Int32.max),
        documentedAs documented: String? = nil
    ) throws -> Int {
        guard let text = optional(name, documentedAs: documented) else { return fallback }
        guard let value = Int(text), range.contains(value) else { throw ConfigurationError.invalid(name, text) }
        return value
    }

    public func seconds(_ name: String, _ fallback: Int, _ range: ClosedRange<Int> = 0...Int(Int32.max)) throws
        -> Duration
    {
        .seconds(try integer(name, fallback, range))
    }

    public func milliseconds(_ name: String, _ fallback: Int, _ range: ClosedRange<Int> = 0...Int(Int32.max)) throws
        -> Duration
    {
        .milliseconds(try integer(name, fallback, range))
    }

    /// A comma-separated list, its entries trimmed, empty ones dropped.
    public func list(_ name: String) -> [String] {
        string(name, "").split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }.filter {
            !$0.isEmpty
        }
    }

    /// `on` or `off`; anything but `off` is on when `fallback` is on.
    public func flag(_ name: String, _ fallback: Bool) -> Bool {
        guard let text = optional(name) else { return fallback }
        return text != "off"
    }
}

/// A setting that cannot be used.
public enum ConfigurationError: Error, CustomStringConvertible {
    case invalid(String, String)
    case missing(String)

    public var description: String {
        switch self {
        case .invalid(let name, _): "\(name) has an invalid value"
        case .missing(let name): "\(name) must be set"
        }
    }
}
