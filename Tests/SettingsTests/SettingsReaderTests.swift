import Settings
import Testing

/// Reading `CP_*` variables: defaults for unset or empty ones, numbers held to their range with the
/// variable (never its value) named in the refusal, lists trimmed, flags, and every name asked for kept
/// as documented, once.
@Suite struct SettingsReaderTests {
    @Test func valuesDefaultsRangesAndNames() throws {
        let reader = SettingsReader([
            "CP_A": "7", "CP_EMPTY": "", "CP_LIST": " a, ,b ,", "CP_FLAG": "off", "CP_BAD": "12x",
            "CP_OPENAI_API_KEY": "sk",
        ])
        #expect(try reader.integer("CP_A", 1, 0...10) == 7)
        #expect(try reader.integer("CP_EMPTY", 3) == 3)
        #expect(try reader.seconds("CP_UNSET", 5) == .seconds(5))
        #expect(reader.list("CP_LIST") == ["a", "b"])
        #expect(!reader.flag("CP_FLAG", true) && reader.flag("CP_UNSET_FLAG", true))
        #expect(reader.optional("CP_OPENAI_API_KEY", documentedAs: "CP_<PROVIDER>_API_KEY") == "sk")
        for (name, range) in [("CP_BAD", 0...100), ("CP_A", 0...5)] {
            do {
                _ = try reader.integer(name, 1, range)
                Issue.record("\(name) should be refused")
            } catch {
                #expect("\(error)" == "\(name) has an invalid value")
            }
        }
        _ = reader.optional("CP_A")
        #expect(
            reader.names == [
                "CP_A", "CP_EMPTY", "CP_UNSET", "CP_LIST", "CP_FLAG", "CP_UNSET_FLAG", "CP_<PROVIDER>_API_KEY",
                "CP_BAD",
            ])
    }
}
