import Foundation
import HummingbirdTesting
import Testing

/// Defect 1: a crafted cursor trapped the process (`Double value cannot be converted to Int64`) or
/// answered 500. Cursors are now sealed per list; anything else is a 400.
@Suite(.timeLimit(.minutes(3))) struct CursorTests {
    static let hostile = [
        "LTkyMjMzNzIwMzY4NTQ3NzU4MDh8eA",  // -9223372036854775808|x: trapped the admin list
        "LTF8eA",  // -1|x: answered 500
        "OTIyMzM3MjAzNjg1NDc3NTgwN3w0Mg",  // 9223372036854775807|42
        "MTc5NTAwMDAwMDAwMDAwMHw0Mg",  // a well-formed unsealed cursor of the old format
        "%25%25%25", "AAAA",
    ]

    @Test func craftedCursorsAnswer400OnEveryList() async throws {
        let operatorToken = try await OperatorTests.operatorToken()
        try await TestEnvironment.withApp { client in
            let tenant = try await client.signup()
            for cursor in Self.hostile {
                for (path, token) in [("/v1/keys", tenant.token), ("/v1/audit-log", tenant.token)] {
                    try await client.send(.get, "\(path)?cursor=\(cursor)", token: token).expectProblem(
                        400, "invalid_request")
                }
                try await client.send(.get, "/v1/admin/tenants?cursor=\(cursor)", token: operatorToken)
                    .expectProblem(400, "invalid_request")
            }
            #expect(try await client.send(.get, "/healthz").status == .ok, "the server is still up")
        }
    }

    @Test func aCursorWorksOnlyInTheListAndTenantThatIssuedIt() async throws {
        try await TestEnvironment.withApp { client in
            let a = try await client.signup()
            let b = try await client.signup()
            for _ in 0..<3 { _ = try await client.createKey(token: a.token, scopes: ["tenant:read"]) }
            // Walk A's keys one per page: every key once, in order, then no cursor.
            var seen: [String] = []
            var cursor: String?
            for _ in 0..<10 {
                let query = cursor.map { "&cursor=\($0)" } ?? ""
                let page = try await client.send(.get, "/v1/keys?limit=1\(query)", token: a.token).jsonObject()
                seen += (page["items"] as? [[String: Any]] ?? []).compactMap { $0["id"] as? String }
                cursor = page["next_cursor"] as? String
                if cursor == nil { break }
            }
            #expect(seen.count == 4 && Set(seen).count == 4)
            let first = try await client.send(.get, "/v1/keys?limit=1", token: a.token).jsonObject()
            let issued = try #require(first["next_cursor"] as? String)
            try await client.send(.get, "/v1/keys?cursor=\(issued)", token: b.token).expectProblem(
                400, "invalid_request")
            try await client.send(.get, "/v1/audit-log?cursor=\(issued)", token: a.token)
                .expectProblem(400, "invalid_request")
            #expect(try await client.send(.get, "/v1/keys?cursor=\(issued)", token: a.token).status == .ok)
        }
    }
}
