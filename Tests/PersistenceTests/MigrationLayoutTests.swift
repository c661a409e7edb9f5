import Foundation
import Persistence
import Testing

/// The repository's migrations keep their layout: functions and views only in `definitions/`, each once,
/// in the file named after it; every policy on the one `app_tenant_id()`.
@Suite(.timeLimit(.minutes(1))) struct MigrationLayoutTests {
    static let directory = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("migrations").path

    @Test func noMigrationDefinesAFunctionOrView() throws {
        let plan = try MigrationPlan.load(from: Self.directory)
        #expect(plan.migrations.count >= 25)
        for migration in plan.migrations {
            for statement in SQLScript.statements(in: migration.sql) {
                let words = statement.split(whereSeparator: \.isWhitespace).prefix(4).joined(separator: " ")
                    .uppercased()
                #expect(
                    !(words.hasPrefix("CREATE FUNCTION") || words.hasPrefix("CREATE OR REPLACE FUNCTION")
                        || words.hasPrefix("CREATE VIEW") || words.hasPrefix("CREATE OR REPLACE VIEW")
                        || words.hasPrefix("CREATE TRIGGER") || words.hasPrefix("CREATE CONSTRAINT TRIGGER")),
                    "migration \(migration.version) defines: \(words)")
            }
        }
    }

    @Test func eachDefinitionDefinesWhatItIsNamedAfterAndNothingElse() throws {
        let plan = try MigrationPlan.load(from: Self.directory)
        #expect(plan.definitions.count >= 30)
        var owner: [String: String] = [:]
        for definition in plan.definitions {
            for statement in SQLScript.statements(in: definition.sql) {
                let words = statement.split(whereSeparator: { $0.isWhitespace || $0 == "(" }).map(String.init)
                guard words.count > 4, words[0] == "CREATE", words[1] == "OR", words[2] == "REPLACE",
                    ["FUNCTION", "VIEW"].contains(words[3])
                else { continue }
                #expect(words[4] == definition.name, "definitions/\(definition.name).sql defines \(words[4])")
                if let other = owner[words[4]], other != definition.name {
                    Issue.record("\(words[4]) is defined in \(other) and \(definition.name)")
                }
                owner[words[4]] = definition.name
            }
        }
    }

    @Test func everyPolicyNamesTheTenantThroughAppTenantID() throws {
        let plan = try MigrationPlan.load(from: Self.directory)
        let spelled = "current_setting('app.tenant_id'"
        for migration in plan.migrations where migration.version != 25 {
            #expect(!migration.sql.contains(spelled), "migration \(migration.version) spells the tenant out")
        }
        for definition in plan.definitions where definition.name != "app_tenant_id" {
            #expect(!definition.sql.contains(spelled), "definitions/\(definition.name) spells the tenant out")
        }
        let policies = plan.migrations.map(\.sql).joined().components(separatedBy: "app_tenant_id()").count - 1
        #expect(policies >= 59)
    }
}
