import Testing

@testable import Persistence

@Suite(.timeLimit(.minutes(3))) struct SQLScriptTests {
    @Test func splitsStatementsAndDropsComments() {
        let script = """
            -- a comment; with a semicolon
            CREATE TABLE a (x int); /* block; comment */
            INSERT INTO a VALUES (1);
            """
        #expect(SQLScript.statements(in: script) == ["CREATE TABLE a (x int)", "INSERT INTO a VALUES (1)"])
    }

    @Test func keepsSemicolonsInsideQuotesAndDollarBodies() {
        let script = """
            SELECT 'it''s; fine', "odd;name";
            CREATE FUNCTION f() RETURNS int LANGUAGE sql AS $body$ SELECT 1; $body$;
            DO $$ BEGIN PERFORM 1; END $$;
            """
        let statements = SQLScript.statements(in: script)
        #expect(statements.count == 3)
        #expect(statements[0] == #"SELECT 'it''s; fine', "odd;name""#)
        #expect(statements[1].hasSuffix("$body$ SELECT 1; $body$"))
        #expect(statements[2] == "DO $$ BEGIN PERFORM 1; END $$")
    }

    @Test func theFoundationMigrationSplitsIntoItsStatements() throws {
        let migrations = try MigrationPlan.load(from: "migrations").migrations
        let first = try #require(migrations.first)
        #expect(first.version == 1)
        let statements = SQLScript.statements(in: first.sql)
        #expect(statements.contains { $0.hasPrefix("CREATE TABLE tenants") })
        #expect(statements.allSatisfy { !$0.contains("--") })
        #expect(first.checksum.count == 64)
    }
}
