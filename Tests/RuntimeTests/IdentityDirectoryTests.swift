import Foundation
import Persistence
import Runtime
import Tenancy
import TestKit
import Testing

/// Writing the directory of people without HTTP: each person checked as the API states, emails lowercased
/// and repeated git emails dropped, a person named twice or a git email claimed by two people refusing
/// the whole write, and a write audited.
@Suite(.timeLimit(.minutes(2))) struct IdentityDirectoryTests {
    static let caller = AuditLog.Caller(actorType: .apiKey, actorID: "k-1", requestID: "r-id", clientAddress: nil)

    @Test func aDirectoryIsWrittenWholeOrNotAtAll() async throws {
        try await TestDatabase.with { database in
            let directory = IdentityDirectory(database: database)
            let tenantID = try await TestDatabase.tenant(in: database, prefix: "people")
            func refusal(_ people: [Identity]) async -> Refusal? {
                await thrown(Refusal.self) {
                    _ = try await directory.put(
                        people, deleteMissing: false, tenantID: tenantID, recordedAs: Self.caller)
                }
            }
            #expect(
                await refusal([Identity(email: "Ana@Example.com"), Identity(email: "ana@example.com")])
                    == .invalid("items[1].email names a person an earlier item already names."))
            #expect(
                await refusal([Identity(email: "ana@example.com", gitEmails: ["not-an-email"])])
                    == .invalid("items[0].git_emails[0] must be an email address."))
            #expect(
                await refusal([Identity(email: "ana@example.com", chatHandle: "has space")])
                    == .invalid("items[0].chat_handle must be 1 to 100 visible ASCII characters."))
            #expect(
                await refusal([Identity(email: "ana@example.com", timezone: "Mars/Olympus")])
                    == .invalid("timezone must be an IANA time zone such as Europe/Berlin."))
            #expect(
                await refusal((0...IdentityDirectory.maxItems).map { Identity(email: "p\($0)@example.com") })
                    == .invalid("items may hold at most 10000 identities; send a larger directory in parts."))
            // A git email two people would claim refuses the lot: the first person is not written either.
            await #expect(throws: IdentityConflict.self) {
                _ = try await directory.put(
                    [
                        Identity(email: "ana@example.com", gitEmails: ["shared@example.com"]),
                        Identity(email: "bo@example.com", gitEmails: ["Shared@example.com"]),
                    ], deleteMissing: false, tenantID: tenantID, recordedAs: Self.caller)
            }
            let written = try await directory.put(
                [
                    Identity(
                        email: "Ana@Example.com", gitEmails: ["A@Work.example.com", "a@work.example.com"],
                        chatHandle: "@ana", managerEmail: "Boss@Example.com", timezone: "Europe/Berlin")
                ], deleteMissing: false, tenantID: tenantID, recordedAs: Self.caller)
            #expect(written.created == 1 && written.total == 1)
            let stored = try await database.withTenant(tenantID) {
                try await IdentityStore().list(email: nil, limit: 10, after: nil, in: $0).items
            }
            #expect(stored.map(\.email) == ["ana@example.com"])
            #expect(
                stored.first?.gitEmails == ["a@work.example.com"] && stored.first?.managerEmail == "boss@example.com")
            let actions = try await database.withTenant(tenantID) {
                try await AuditLog().list(limit: 10, after: nil, in: $0).items.map(\.entry.action)
            }
            #expect(actions == ["identities.put"])
        }
    }
}
