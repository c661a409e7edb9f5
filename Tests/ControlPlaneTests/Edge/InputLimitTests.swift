import Foundation
import HTTPTypes
import HummingbirdTesting
import Testing

/// Defect 10 and the spec's disagreements: inputs that reached SQL and answered 500 (a NUL byte is
/// SQLSTATE 22021), and undeclared methods that answered 404 instead of 405.
@Suite(.timeLimit(.minutes(3))) struct InputLimitTests {
    @Test(arguments: ["ada\u{0}@example.test", "\u{0}", "a\u{7}b@example.test", String(repeating: "a", count: 300)])
    func loginEmailsThatCannotBeStoredAnswer400(email: String) async throws {
        try await TestEnvironment.withApp { client in
            try await client.send(.post, "/v1/auth/login", json: ["email": email, "password": "whatever it is"])
                .expectProblem(400, "invalid_request")
        }
    }

    @Test func nulBytesInAnyStringFieldAnswer400() async throws {
        try await TestEnvironment.withApp { client in
            let tenant = try await client.signup()
            let slug = uniqueSlug()
            let cases: [(HTTPRequest.Method, String, [String: Any])] = [
                (.post, "/v1/keys", ["name": "a\u{0}b", "scopes": ["tenant:read"]]),
                (.patch, "/v1/tenant", ["name": "a\u{0}b"]),
                (.patch, "/v1/tenant", ["timezone": "UTC\u{0}"]),
                (
                    .post, "/v1/signup",
                    [
                        "organization_name": "x\u{0}", "slug": slug, "admin_email": "\(slug)@example.test",
                        "admin_password": "correct horse battery",
                    ]
                ),
                (
                    .post, "/v1/signup",
                    [
                        "organization_name": "x", "slug": slug, "admin_email": "\(slug)@exam\u{0}ple.test",
                        "admin_password": "correct horse battery",
                    ]
                ),
            ]
            for (method, path, body) in cases {
                try await client.send(method, path, token: tenant.token, json: body).expectProblem(
                    400, "invalid_request")
            }
        }
    }

    /// Schemathesis found `GET /v1/analyses?author=` with a NUL (it passed the email check) answering 500.
    @Test func nulCharactersInQueriesAndNestedFieldsAnswer400() async throws {
        try await TestEnvironment.withApp { client in
            let tenant = try await client.signup()
            for path in [
                "/v1/analyses?author=ada%00@example.test", "/v1/analyses?repository=o/n%00",
                "/v1/identities?email=ada%00@example.test", "/v1/jobs?status=queued%00", "/v1/keys/%00",
                "/v1/users?limit=1&cursor=%00",
            ] {
                let response = try await client.send(.get, path, token: tenant.token)
                try response.expectProblem(400, "invalid_request")
                #expect(response.problemDetail?.contains("NUL") == true, "\(path)")
            }
            // A JSON null is refused the same way, by its path.
            let null = try await client.send(
                .put, "/v1/identities", token: tenant.token,
                json: ["items": [["email": "ada@example.test", "chat_handle": NSNull()]]])
            try null.expectProblem(400, "invalid_request")
            #expect(null.problemDetail?.contains("items[0].chat_handle") == true, "\(null.problemDetail ?? "")")
            let nested = try await client.send(
                .put, "/v1/identities", token: tenant.token,
                json: ["items": [["email": "ada@example.test", "git_emails": ["ada\u{0}@example.test"]]]])
            try nested.expectProblem(400, "invalid_request")
            #expect(nested.problemDetail?.contains("items[0].git_emails[0]") == true)
        }
    }

    @Test func aDeclaredPathWithAnotherMethodAnswers405WithAllow() async throws {
        try await TestEnvironment.withApp { client in
            let tenant = try await client.signup()
            let wrong = try await client.send(.delete, "/v1/tenant", token: tenant.token)
            try wrong.expectProblem(405, "invalid_request")
            #expect(wrong.headers[.allow] == "GET, PATCH")
            // A literal path beats a template that would also match it: not /v1/users/{user_id}'s methods.
            let invitations = try await client.send(.options, "/v1/users/invitations", token: tenant.token)
            try invitations.expectProblem(405, "invalid_request")
            #expect(invitations.headers[.allow] == "GET, POST")
            let signup = try await client.send(.get, "/v1/signup")
            try signup.expectProblem(405, "invalid_request")
            #expect(signup.headers[.allow] == "POST")
            try await client.send(.put, "/v1/keys/\(UUID())", token: tenant.token).expectProblem(405, "invalid_request")
            try await client.send(.get, "/v1/nothing/here").expectProblem(404, "not_found")
        }
    }
}
