import ControlPlane
import Foundation
import Settings
import Testing

/// The README's configuration table and the settings the modules read are the same list: no setting is
/// read that the table does not document, and the table documents none that nothing reads.
@Suite(.timeLimit(.minutes(1))) struct ConfigurationDocumentationTests {
    /// The `CP_*` names in the first column of the README's "Configuration" table.
    static func documentedNames() throws -> Set<String> {
        let root = TestEnvironment.repositoryRoot
        let readme = try String(contentsOf: root.appendingPathComponent("README.md"), encoding: .utf8)
        guard let start = readme.range(of: "\n## Configuration\n") else { return [] }
        let section = readme[start.upperBound...]
        let end = section.range(of: "\n## ")?.lowerBound ?? section.endIndex
        var names = Set<String>()
        for line in section[..<end].split(separator: "\n") where line.hasPrefix("| `CP_") {
            let firstCell = line.dropFirst(2).prefix { $0 != "|" }
            for piece in firstCell.split(separator: "`") where piece.hasPrefix("CP_") { names.insert(String(piece)) }
        }
        return names
    }

    @Test func theReadmeTableListsExactlyTheSettingsTheModulesRead() throws {
        let reader = SettingsReader([:])
        _ = try Configuration(reader)
        let read = Set(reader.names)
        let documented = try Self.documentedNames()
        #expect(read.count > 80, "the modules read \(read.count) settings")
        #expect(read.subtracting(documented).sorted() == [], "read but not in the README's table")
        #expect(documented.subtracting(read).sorted() == [], "in the README's table but read by nothing")
    }

    @Test func aFamilyOfSettingsIsReadUnderItsDocumentedName() throws {
        let reader = SettingsReader(["CP_GROQ_API_KEY": "gsk_test", "CP_RETENTION_DAYS_TEAM": "45"])
        let configuration = try Configuration(reader)
        #expect(configuration.gateway.providerDefaults["groq"]?.apiKey == "gsk_test")
        #expect(configuration.runtime.retentionPolicy.detailDays[.team] == 45)
        #expect(reader.names.contains("CP_<PROVIDER>_API_KEY") && !reader.names.contains("CP_GROQ_API_KEY"))
    }

    @Test func aValueOutsideItsRangeNamesItsVariable() {
        #expect(throws: ConfigurationError.self) { try Configuration(environment: ["CP_DATABASE_POOL_SIZE": "0"]) }
        do {
            _ = try Configuration(environment: ["CP_QUEUE_MAX_DEPTH": "lots"])
            Issue.record("an invalid depth was accepted")
        } catch {
            #expect("\(error)" == "CP_QUEUE_MAX_DEPTH has an invalid value")
        }
    }
}
