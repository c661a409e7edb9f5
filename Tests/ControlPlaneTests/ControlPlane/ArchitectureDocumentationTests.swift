import Foundation
import Testing

/// The README's "Architecture" section stays true: its table names every module in `Sources/`, every
/// module has its tests, and every file it tells a newcomer to open exists.
@Suite(.timeLimit(.minutes(1))) struct ArchitectureDocumentationTests {
    static let root = TestEnvironment.repositoryRoot

    static func section() throws -> Substring {
        let readme = try String(contentsOf: root.appendingPathComponent("README.md"), encoding: .utf8)
        let start = try #require(readme.range(of: "\n## Architecture\n"))
        let rest = readme[start.upperBound...]
        return rest[..<(rest.range(of: "\n## ")?.lowerBound ?? rest.endIndex)]
    }

    /// Backticked words of the section.
    static func quoted(_ text: Substring) -> [String] {
        text.split(separator: "`", omittingEmptySubsequences: false).enumerated().filter { $0.offset % 2 == 1 }
            .map { String($0.element) }
    }

    @Test func theTableNamesEveryModule() throws {
        let section = try Self.section()
        let named = Set(
            section.split(separator: "\n").filter { $0.hasPrefix("| `") }.compactMap { Self.quoted($0).first })
        let generated: Set = ["ControlPlaneAPI", "ControlPlaneAPITypes", "ControlPlaneClient", "controlplane"]
        let modules = try FileManager.default.contentsOfDirectory(
            atPath: Self.root.appendingPathComponent("Sources").path
        )
        .filter { !$0.hasPrefix("C") || $0.hasPrefix("Control") }.filter { !generated.contains($0) }
        #expect(Set(modules).subtracting(named).sorted() == [], "modules the table leaves out")
        #expect(named.subtracting(modules).sorted() == [], "modules the table names that do not exist")
    }

    /// Tests mirror the modules: each has a test target of its own (`Tests/<Module>Tests`) or a folder of
    /// the HTTP tests (`Tests/ControlPlaneTests/<Module>`), most both.
    @Test func everyModuleHasItsTests() throws {
        let files = FileManager.default
        let generated: Set = ["ControlPlaneAPI", "ControlPlaneAPITypes", "ControlPlaneClient", "controlplane"]
        let modules = try files.contentsOfDirectory(atPath: Self.root.appendingPathComponent("Sources").path)
            .filter { !$0.hasPrefix("C") || $0.hasPrefix("Control") }.filter { !generated.contains($0) }
        let tests = Self.root.appendingPathComponent("Tests")
        let untested = modules.filter { module in
            !files.fileExists(atPath: tests.appendingPathComponent("\(module)Tests").path)
                && !files.fileExists(atPath: tests.appendingPathComponent("ControlPlaneTests/\(module)").path)
        }
        #expect(modules.count >= 15)
        #expect(untested.sorted() == [], "modules without tests of their own")
    }

    @Test func everyFileItNamesExists() throws {
        let section = try Self.section()
        var files: [String: [String]] = [:]
        let sources = Self.root.appendingPathComponent("Sources")
        for case let path as String in FileManager.default.enumerator(atPath: sources.path) ?? .init() {
            files[(path as NSString).lastPathComponent, default: []].append("Sources/" + path)
        }
        for folder in ["migrations", "Tests"] {
            for case let path as String in FileManager.default.enumerator(
                atPath: Self.root.appendingPathComponent(folder).path) ?? .init()
            {
                files[(path as NSString).lastPathComponent, default: []].append(folder + "/" + path)
            }
        }
        // Patterns (`NNNN_name.sql`, `<name>.sql`) name no one file.
        let named = Self.quoted(section).filter { $0.hasSuffix(".swift") || $0.hasSuffix(".sql") }
            .filter { !$0.contains("NNNN") && !$0.contains("<") }
        #expect(named.count >= 20)
        for name in named {
            let base = (name as NSString).lastPathComponent
            let found = files[base, default: []].contains { $0.hasSuffix("/" + name) || $0.hasSuffix(name) }
            #expect(found, "the Architecture section names \(name), which does not exist")
        }
    }
}
