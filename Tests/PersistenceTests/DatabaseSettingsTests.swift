import Persistence
import Settings
import Testing

/// The pool settings: kept full by default (no idle timer armed per query), keep-alive configurable.
@Suite struct DatabasePoolConfigurationTests {

    @Test func thePoolIsKeptFullAndCheckedEvery30SecondsByDefault() throws {
        let database = try DatabaseSettings(SettingsReader(["CP_DATABASE_POOL_SIZE": "12"]))
        #expect(database.poolMinimum == 12)
        #expect(database.keepAliveSeconds == 30)
    }

    @Test func aMinimumAboveThePoolSizeIsRefused() {
        #expect(throws: ConfigurationError.self) {
            try DatabaseSettings(SettingsReader(["CP_DATABASE_POOL_SIZE": "4", "CP_DATABASE_POOL_MIN": "5"]))
        }
        #expect(throws: ConfigurationError.self) {
            try DatabaseSettings(SettingsReader(["CP_DATABASE_KEEPALIVE_SECONDS": "-1"]))
        }
    }

    @Test func keepAliveCanBeTurnedOff() throws {
        let database = try DatabaseSettings(
            SettingsReader(["CP_DATABASE_KEEPALIVE_SECONDS": "0", "CP_DATABASE_POOL_MIN": "2"]))
        #expect(database.keepAliveSeconds == 0)
        #expect(database.poolMinimum == 2)
    }
}
