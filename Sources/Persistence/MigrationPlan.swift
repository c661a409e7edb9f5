import Crypto
import Foundation

/// What `migrate` brings a database to, read from the migrations directory:
/// - `NNNN_name.sql`: forward-only schema changes (tables, indexes, policies, grants), each applied once
///   and checksummed, so changing one after it ran is an error;
/// - `definitions/<name>.sql`: each function (with its grants and triggers) or view, defined once, in
///   the file named after it. A definition's first line says after which migration it is first applied
///   (`-- after: NNNN`, the one that made what it uses); it is applied again whenever its text changes.
///   No migration defines a function or view;
/// - `superseded-checksums.txt`: checksums migrations had when first released, before they were rewritten
///   to this layout; a database that applied them is accepted and its record updated.
public struct MigrationPlan: Sendable {
    /// One migration file.
    public struct Migration: Sendable, Equatable {
        public let version: Int
        public let name: String
        public let sql: String
        public var checksum: String { MigrationPlan.checksum(sql) }

        public init(version: Int, name: String, sql: String) {
            self.version = version
            self.name = name
            self.sql = sql
        }
    }

    /// One definition file.
    public struct Definition: Sendable, Equatable {
        /// The function or view it defines, and its file's name.
        public let name: String
        /// The migration after which it is first applied (0: before the first).
        public let after: Int
        public let sql: String
        public var checksum: String { MigrationPlan.checksum(sql) }

        public init(name: String, after: Int, sql: String) {
            self.name = name
            self.after = after
            self.sql = sql
        }
    }

    public enum LoadError: Error, CustomStringConvertible {
        case badFileName(String)
        case duplicateVersion(Int)
        case noAfterLine(String)
        case afterUnknownMigration(String, Int)
        case badSupersededLine(String)

        public var description: String {
            switch self {
            case .badFileName(let name): "migration file \(name) is not named NNNN_name.sql"
            case .duplicateVersion(let version): "two migration files have version \(version)"
            case .noAfterLine(let name): "definitions/\(name).sql does not start with `-- after: NNNN`"
            case .afterUnknownMigration(let name, let version):
                "definitions/\(name).sql is applied after migration \(version), which does not exist"
            case .badSupersededLine(let line):
                "superseded-checksums.txt has a line that is not `NNNN checksum`: \(line)"
            }
        }
    }

    public let migrations: [Migration]
    public let definitions: [Definition]
    /// Per version, checksums a database may have recorded for it instead of the current one.
    public let superseded: [Int: Set<String>]

    public init(migrations: [Migration], definitions: [Definition] = [], superseded: [Int: Set<String>] = [:]) {
        self.migrations = migrations.sorted { $0.version < $1.version }
        self.definitions = definitions.sorted { ($0.after, $0.name) < ($1.after, $1.name) }
        self.superseded = superseded
    }

    /// Reads the migrations directory.
    public static func load(from directory: String) throws -> MigrationPlan {
        let files = FileManager.default
        var migrations: [Migration] = []
        for name in try files.contentsOfDirectory(atPath: directory) where name.hasSuffix(".sql") {
            let stem = name.dropLast(4)
            guard let underscore = stem.firstIndex(of: "_"), let version = Int(stem[..<underscore]) else {
                throw LoadError.badFileName(name)
            }
            let sql = try String(contentsOfFile: directory + "/" + name, encoding: .utf8)
            migrations.append(
                Migration(version: version, name: String(stem[stem.index(after: underscore)...]), sql: sql))
        }
        migrations.sort { $0.version < $1.version }
        for (previous, next) in zip(migrations, migrations.dropFirst()) where previous.version == next.version {
            throw LoadError.duplicateVersion(next.version)
        }
        let versions = Set(migrations.map(\.version))
        var definitions: [Definition] = []
        let definitionsDirectory = directory + "/definitions"
        if files.fileExists(atPath: definitionsDirectory) {
            for file in try files.contentsOfDirectory(atPath: definitionsDirectory) where file.hasSuffix(".sql") {
                let name = String(file.dropLast(4))
                let sql = try String(contentsOfFile: definitionsDirectory + "/" + file, encoding: .utf8)
                let first = sql.prefix { $0 != "\n" }
                guard first.hasPrefix("-- after: "), let after = Int(first.dropFirst("-- after: ".count)) else {
                    throw LoadError.noAfterLine(name)
                }
                guard after == 0 || versions.contains(after) else { throw LoadError.afterUnknownMigration(name, after) }
                definitions.append(Definition(name: name, after: after, sql: sql))
            }
        }
        var superseded: [Int: Set<String>] = [:]
        if let text = try? String(contentsOfFile: directory + "/superseded-checksums.txt", encoding: .utf8) {
            for line in text.split(separator: "\n") where !line.hasPrefix("#") && !line.isEmpty {
                let parts = line.split(separator: " ")
                guard parts.count == 2, let version = Int(parts[0]), parts[1].count == 64 else {
                    throw LoadError.badSupersededLine(String(line))
                }
                superseded[version, default: []].insert(String(parts[1]))
            }
        }
        return MigrationPlan(migrations: migrations, definitions: definitions, superseded: superseded)
    }

    static func checksum(_ sql: String) -> String {
        SHA256.hash(data: Data(sql.utf8)).map { String(format: "%02x", $0) }.joined()
    }
}
