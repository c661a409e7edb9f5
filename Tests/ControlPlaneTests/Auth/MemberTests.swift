import Foundation
import HTTPTypes
import HummingbirdTesting
import PostgresNIO
import TestKit
import Testing

/// Issue 9, members and roles: an invitation reaches the tenant's URL signed and is accepted once;
/// roles cannot be raised above the caller's, the organisation always has one owner, and a removed
/// member's tokens and keys stop on every replica within a second.
@Suite(.timeLimit(.minutes(3))) struct MemberTests {
    @Test func anInvitationIsSentSignedAcceptedOnceAndAudited() async throws {
        let receiver = NotificationReceiver()
        try await receiver.run { url in
            try await TestEnvironment.withApp(worker: true) { client in
                let owner = try await client.signup()
                let set = try await client.send(
                    .put, "/v1/notifications", token: owner.token, json: ["url": url, "events": ["invitation.created"]])
                let secret = try #require(try set.jsonObject()["secret"] as? String)
                let email = "\(uniqueSlug("inv"))@example.test"
                let invited = try await client.send(
                    .post, "/v1/users/invitations", token: owner.token, json: ["email": email, "role": "admin"])
                #expect(invited.status == .created, "\(String(buffer: invited.body))")
                let invitation = try invited.jsonObject()
                let token = try #require(invitation["token"] as? String)
                #expect(token.hasPrefix("cpinv_"))
                #expect(invitation["status"] as? String == "pending" && invitation["role"] as? String == "admin")

                // The token reaches the receiver signed, and is not kept in the stored event.
                let arrived = try await waitUntil(timeout: .seconds(10)) { !receiver.received.withLock { $0 }.isEmpty }
                #expect(arrived != nil)
                let message = try #require(receiver.received.withLock { $0 }.first)
                #expect(NotificationReceiver.verifies(message, secret: secret))
                let event = try #require(try JSONSerialization.jsonObject(with: Data(message.body)) as? [String: Any])
                let data = event["data"] as? [String: Any] ?? [:]
                #expect(event["type"] as? String == "invitation.created")
                #expect(data["token"] as? String == token && data["email"] as? String == email)
                let tenantID = owner.tenantID
                let stored: @Sendable () async throws -> [(String, Bool)] = {
                    try await TestEnvironment.withTenantTransaction(tenantID) { transaction in
                        var rows: [(String, Bool)] = []
                        for try await row in try await transaction.query(
                            """
                            SELECT payload::text, sealed_secret IS NULL FROM notification_events
                            WHERE type = 'invitation.created'
                            """
                        ).decode((String, Bool).self) { rows.append(row) }
                        return rows
                    }
                }
                let secretPart = String(token.dropFirst(6).suffix(40))
                #expect(try await stored().allSatisfy { !$0.0.contains(secretPart) })
                let erased = try await waitUntil(timeout: .seconds(5)) { try await stored().first?.1 == true }
                #expect(erased != nil, "the sealed token is erased once delivered")

                // A wrong password length, a forged secret and a garbage token are refused alike.
                try await client.send(.post, "/v1/auth/accept-invitation", json: ["token": token, "password": "short"])
                    .expectProblem(400, "invalid_request")
                var forged = Array(token)
                forged[forged.count - 3] = forged[forged.count - 3] == "A" ? "B" : "A"
                for bad in [String(forged), "cpinv_AAAA", "nothing"] {
                    try await client.send(
                        .post, "/v1/auth/accept-invitation", json: ["token": bad, "password": "correct horse battery"]
                    ).expectProblem(401, "unauthenticated")
                }
                let accepted = try await client.send(
                    .post, "/v1/auth/accept-invitation", json: ["token": token, "password": "correct horse battery"])
                #expect(accepted.status == .ok, "\(String(buffer: accepted.body))")
                let joined = try accepted.jsonObject()
                #expect((joined["user"] as? [String: Any])?["role"] as? String == "admin")
                #expect(joined["tenant_id"] as? String == owner.tenantID)
                let access = try #require(joined["access_token"] as? String)
                #expect(try await client.send(.get, "/v1/users", token: access).status == .ok)
                try await client.send(
                    .post, "/v1/auth/accept-invitation", json: ["token": token, "password": "correct horse battery"]
                ).expectProblem(401, "unauthenticated")
                let login = try await client.send(
                    .post, "/v1/auth/login", json: ["email": email, "password": "correct horse battery"])
                #expect(login.status == .ok)

                // An email with an account is not invited again.
                try await client.send(.post, "/v1/users/invitations", token: owner.token, json: ["email": email])
                    .expectProblem(409, "conflict")
                let audit = try await client.send(.get, "/v1/audit-log", token: owner.token).jsonObject()
                let actions = (audit["items"] as? [[String: Any]] ?? []).map { $0["action"] as? String ?? "" }
                #expect(actions.contains("user.invite") && actions.contains("user.join"))
                let join = (audit["items"] as? [[String: Any]] ?? []).first { $0["action"] as? String == "user.join" }
                #expect((join?["client_address"] as? String)?.isEmpty == false)
            }
        }
    }

    @Test func anExpiredOrReplacedInvitationIsRefused() async throws {
        try await TestEnvironment.withApp { client in
            let owner = try await client.signup()
            let email = "\(uniqueSlug("inv"))@example.test"
            let first = try await client.invite(email, role: "member", token: owner.token)
            let second = try await client.invite(email, role: "member", token: owner.token)
            let third = try await client.invite("x\(email)", role: "member", token: owner.token)
            // The clock moved past the third invitation's expiry.
            try await TestEnvironment.withTenantTransaction(owner.tenantID) { transaction in
                try await transaction.query(
                    "UPDATE invitations SET expires_at = now() - interval '1 second' WHERE invitation_id = \(third.id)")
            }
            for token in [first.token, third.token] {
                try await client.send(
                    .post, "/v1/auth/accept-invitation", json: ["token": token, "password": "correct horse battery"]
                ).expectProblem(401, "unauthenticated")
            }
            let accepted = try await client.send(
                .post, "/v1/auth/accept-invitation", json: ["token": second.token, "password": "correct horse battery"])
            #expect(accepted.status == .ok)
            // Owner is never invited; a member cannot invite at all.
            let owners = try await client.send(
                .post, "/v1/users/invitations", token: owner.token, json: ["email": "o\(email)", "role": "owner"])
            try owners.expectProblem(400, "invalid_request")
            let member = try #require(try accepted.jsonObject()["access_token"] as? String)
            try await client.send(.post, "/v1/users/invitations", token: member, json: ["email": "m\(email)"])
                .expectProblem(403, "forbidden")
        }
    }

    @Test func invitationsAreListedByStatusAndAPendingOneCanBeRevoked() async throws {
        try await TestEnvironment.withApp { client in
            let owner = try await client.signup()
            let member = try await client.join(owner, role: "member")
            let pending = try await client.invite("p-\(uniqueSlug())@example.test", role: "admin", token: owner.token)
            let revoked = try await client.invite("r-\(uniqueSlug())@example.test", role: "member", token: owner.token)
            try await client.send(.delete, "/v1/users/invitations/\(revoked.id)", token: member.access)
                .expectProblem(403, "forbidden")
            #expect(
                try await client.send(.delete, "/v1/users/invitations/\(revoked.id)", token: owner.token).status
                    == .noContent)
            try await client.send(.delete, "/v1/users/invitations/\(revoked.id)", token: owner.token)
                .expectProblem(409, "conflict")
            try await client.send(.delete, "/v1/users/invitations/\(UUID())", token: owner.token)
                .expectProblem(404, "not_found")
            try await client.send(
                .post, "/v1/auth/accept-invitation",
                json: ["token": revoked.token, "password": "correct horse battery"]
            ).expectProblem(401, "unauthenticated")

            // One email invited five times at once: each answer is an invitation or a 409, never a 500,
            // and one invitation stays open.
            let raced = "raced-\(uniqueSlug())@example.test"
            let statuses = try await withThrowingTaskGroup(of: Int.self) { group in
                for _ in 0..<5 {
                    group.addTask {
                        try await client.send(
                            .post, "/v1/users/invitations", token: owner.token, json: ["email": raced]
                        ).status.code
                    }
                }
                return try await group.reduce(into: [Int]()) { $0.append($1) }
            }
            #expect(statuses.allSatisfy { [201, 409].contains($0) } && statuses.contains(201), "\(statuses)")

            func listed(_ query: String) async throws -> [[String: Any]] {
                let page = try await client.send(.get, "/v1/users/invitations\(query)", token: member.access)
                #expect(page.status == .ok, "\(String(buffer: page.body))")
                return try page.jsonObject()["items"] as? [[String: Any]] ?? []
            }
            let all = try await listed("?limit=100")
            #expect(all.allSatisfy { $0["token"] == nil })
            #expect(all.filter { $0["email"] as? String == raced && $0["status"] as? String == "pending" }.count == 1)
            let open = try await listed("?status=pending").filter { $0["email"] as? String != raced }
            #expect(open.map { $0["id"] as? String } == [pending.id.uuidString.lowercased()])
            #expect(
                try await listed("?status=revoked").filter { $0["email"] as? String != raced }.map {
                    $0["id"] as? String
                }
                    == [revoked.id.uuidString.lowercased()])
            #expect(try await listed("?status=accepted").first?["accepted_at"] is String)
            let first = try await client.send(.get, "/v1/users/invitations?limit=2", token: owner.token).jsonObject()
            let cursor = try #require(first["next_cursor"] as? String)
            let rest = try await listed("?limit=100&cursor=\(cursor)")
            #expect((first["items"] as? [Any])?.count == 2 && rest.count == all.count - 2)
            try await client.send(.get, "/v1/users/invitations?status=lost", token: owner.token)
                .expectProblem(400, "invalid_request")
        }
    }

    @Test func rolesNeverRiseAboveTheCallersAndOneOwnerAlwaysRemains() async throws {
        try await TestEnvironment.withApp { client in
            let owner = try await client.signup()
            let ownerAccess = try await client.login(owner.email, owner.password)
            let admin = try await client.join(owner, role: "admin")
            let member = try await client.join(owner, role: "member")
            let ownerID = try await client.userID(owner.email, token: owner.token)

            // A member reads and calls the gateway, and changes nothing.
            #expect(try await client.send(.get, "/v1/users", token: member.access).status == .ok)
            try await client.patchRole(admin.id, "member", token: member.access).expectProblem(403, "forbidden")
            // An admin cannot make an owner, touch the owner, or be raised by a key to owner.
            try await client.patchRole(member.id, "owner", token: admin.access).expectProblem(403, "forbidden")
            try await client.patchRole(ownerID, "admin", token: admin.access).expectProblem(403, "forbidden")
            try await client.patchRole(member.id, "owner", token: owner.token).expectProblem(403, "forbidden")
            try await client.send(.delete, "/v1/users/\(ownerID)", token: admin.access).expectProblem(403, "forbidden")
            // The owner's role changes only by handing ownership on.
            try await client.patchRole(ownerID, "admin", token: ownerAccess).expectProblem(409, "conflict")
            try await client.send(.delete, "/v1/users/\(ownerID)", token: ownerAccess).expectProblem(409, "conflict")

            // An admin raises a member to admin and lowers them again; the change applies to the token the
            // member already holds.
            let raised = try await client.patchRole(member.id, "admin", token: admin.access)
            #expect(try raised.jsonObject()["role"] as? String == "admin")
            let lowered = try await client.patchRole(member.id, "member", token: admin.access)
            #expect(try lowered.jsonObject()["role"] as? String == "member")
            // The admin's own keys: one within a member's scopes stays, one beyond them goes with the role.
            let reading = try await client.createKey(token: admin.access, scopes: ["tenant:read", "llm:invoke"])
            let managing = try await client.createKey(token: admin.access, scopes: ["tenant:admin"])
            let adminToMember = try await client.patchRole(admin.id, "member", token: ownerAccess)
            #expect(adminToMember.status == .ok)
            let keysTook = try await waitUntil(timeout: .seconds(1)) {
                try await client.send(.get, "/v1/users", token: managing.token).status == .unauthorized
            }
            #expect(keysTook != nil, "a key beyond the lowered role still worked")
            #expect(try await client.send(.get, "/v1/tenant", token: reading.token).status == .ok)
            let took = try await waitUntil(timeout: .seconds(1)) {
                try await client.send(.post, "/v1/users/invitations", token: admin.access, json: ["email": "z@x.test"])
                    .status == .forbidden
            }
            #expect(took != nil, "a lowered role applies to tokens already issued within a second")

            // Ownership moves in one step: exactly one owner before and after, two transfers at once
            // leave one owner too.
            _ = try await client.patchRole(admin.id, "admin", token: ownerAccess)
            let results = try await withThrowingTaskGroup(of: Int.self) { group in
                for target in [admin.id, member.id] {
                    group.addTask { try await client.patchRole(target, "owner", token: ownerAccess).status.code }
                }
                return try await group.reduce(into: [Int]()) { $0.append($1) }
            }
            #expect(results.sorted() == [200, 403] || results.sorted() == [200, 409], "\(results)")
            let roles = try await client.roles(token: owner.token)
            #expect(roles.values.filter { $0 == "owner" }.count == 1, "\(roles)")
            #expect(roles[owner.email] == "admin")
            #expect(
                try await client.send(.patch, "/v1/tenant", token: ownerAccess, json: ["name": "Renamed"]).status == .ok
            )

            let audit = try await client.send(.get, "/v1/audit-log?limit=100", token: owner.token).jsonObject()
            let changes = (audit["items"] as? [[String: Any]] ?? []).filter {
                ["user.role_change", "user.ownership_transfer"].contains($0["action"] as? String ?? "")
            }
            #expect(changes.count == 5, "\(changes)")
            #expect(changes.allSatisfy { ($0["details"] as? [String: String])?["from"] != nil })
        }
    }

    @Test func removalRevokesOrTransfersKeysAndEndsTokensOnEveryReplicaWithin1s() async throws {
        try await TestEnvironment.withApp { replicaA in
            let owner = try await replicaA.signup()
            let ownerAccess = try await replicaA.login(owner.email, owner.password)
            let leaver = try await replicaA.join(owner, role: "admin")
            let keeper = try await replicaA.join(owner, role: "admin")
            let leaverKey = try await replicaA.createKey(token: leaver.access, scopes: ["tenant:read"])
            let keeperKey = try await replicaA.createKey(token: keeper.access, scopes: ["tenant:read"])
            for token in [leaver.access, leaverKey.token, keeper.access, keeperKey.token] {
                #expect(try await replicaA.send(.get, "/v1/tenant", token: token).status == .ok)
            }
            // Replica B removes both; replica A stops honouring their tokens within a second.
            try await TestEnvironment.withApp { replicaB in
                let revoked = try await replicaB.send(.delete, "/v1/users/\(leaver.id)", token: owner.token)
                #expect(revoked.status == .ok)
                #expect(try revoked.jsonObject()["keys"] as? String == "revoked")
                #expect(try revoked.jsonObject()["key_count"] as? Int == 1)
                try await replicaB.send(.delete, "/v1/users/\(keeper.id)?keys=transfer", token: owner.token)
                    .expectProblem(400, "invalid_request")
                let transferred = try await replicaB.send(
                    .delete, "/v1/users/\(keeper.id)?keys=transfer", token: ownerAccess)
                #expect(try transferred.jsonObject()["keys"] as? String == "transferred")
            }
            let took = try await waitUntil(timeout: .seconds(1)) {
                var statuses: [HTTPResponse.Status] = []
                for token in [leaver.access, leaverKey.token, keeper.access] {
                    statuses.append(try await replicaA.send(.get, "/v1/tenant", token: token).status)
                }
                return statuses.allSatisfy { $0 == .unauthorized }
            }
            #expect(took != nil, "removed members' tokens still worked after a second")
            #expect(try await replicaA.send(.get, "/v1/tenant", token: keeperKey.token).status == .ok)
            try await replicaA.send(
                .post, "/v1/auth/login", json: ["email": leaver.email, "password": leaver.password]
            )
            .expectProblem(401, "unauthenticated")
            let roles = try await replicaA.roles(token: owner.token)
            #expect(roles.count == 1)
            try await replicaA.send(.delete, "/v1/users/\(leaver.id)", token: owner.token).expectProblem(
                404, "not_found")
            try await replicaA.send(.delete, "/v1/users/not-a-uuid", token: owner.token).expectProblem(404, "not_found")
        }
    }

    @Test func signInsAndFailedSignInsAreAuditedWithTheClientAddress() async throws {
        try await TestEnvironment.withApp { client in
            let owner = try await client.signup()
            _ = try await client.login(owner.email, owner.password)
            try await client.send(
                .post, "/v1/auth/login", json: ["email": owner.email, "password": "not the password"]
            )
            .expectProblem(401, "unauthenticated")
            let audit = try await client.send(.get, "/v1/audit-log", token: owner.token).jsonObject()
            let items = audit["items"] as? [[String: Any]] ?? []
            #expect(items.prefix(2).map { $0["action"] as? String } == ["user.login_failed", "user.login"])
            #expect(items.prefix(2).allSatisfy { ($0["client_address"] as? String)?.isEmpty == false })
            #expect(items.first.flatMap { $0["details"] as? [String: String] } == ["method": "password"])
        }
    }

    @Test func anotherTenantsMembersAreNotFound() async throws {
        try await TestEnvironment.withApp { client in
            let first = try await client.signup()
            let second = try await client.signup()
            let member = try await client.join(first, role: "member")
            try await client.patchRole(member.id, "admin", token: second.token).expectProblem(404, "not_found")
            try await client.send(.delete, "/v1/users/\(member.id)", token: second.token).expectProblem(
                404, "not_found")
            #expect(try await client.roles(token: first.token)[member.email] == "member")
        }
    }
}

/// A member who joined through an invitation.
struct JoinedMember: Sendable {
    let id: String
    let email: String
    let password: String
    let access: String
}

extension TestClientProtocol {
    func invite(_ email: String, role: String, token: String) async throws -> (id: UUID, token: String) {
        let response = try await send(
            .post, "/v1/users/invitations", token: token, json: ["email": email, "role": role])
        #expect(response.status == .created, "invite answered \(response.status): \(String(buffer: response.body))")
        let object = try response.jsonObject()
        return (UUID(uuidString: object["id"] as? String ?? "") ?? UUID(), object["token"] as? String ?? "")
    }

    /// Invites a new person with `role` and accepts for them.
    func join(_ tenant: SignedUpTenant, role: String) async throws -> JoinedMember {
        let email = "\(uniqueSlug("m"))@example.test"
        let password = "correct horse battery \(role)"
        let invitation = try await invite(email, role: role, token: tenant.token)
        let accepted = try await send(
            .post, "/v1/auth/accept-invitation", json: ["token": invitation.token, "password": password])
        #expect(accepted.status == .ok, "accept answered \(accepted.status): \(String(buffer: accepted.body))")
        let object = try accepted.jsonObject()
        return JoinedMember(
            id: (object["user"] as? [String: Any])?["id"] as? String ?? "", email: email, password: password,
            access: object["access_token"] as? String ?? "")
    }

    /// Signs in; answers the access token.
    func login(_ email: String, _ password: String) async throws -> String {
        try await signIn(email, password).access
    }

    func patchRole(_ userID: String, _ role: String, token: String) async throws -> TestResponse {
        try await send(.patch, "/v1/users/\(userID)", token: token, json: ["role": role])
    }

    /// Every member's role by email.
    func roles(token: String) async throws -> [String: String] {
        let page = try await send(.get, "/v1/users?limit=100", token: token).jsonObject()
        var roles: [String: String] = [:]
        for item in page["items"] as? [[String: Any]] ?? [] {
            roles[item["email"] as? String ?? ""] = item["role"] as? String
        }
        return roles
    }

    func userID(_ email: String, token: String) async throws -> String {
        let page = try await send(.get, "/v1/users?limit=100", token: token).jsonObject()
        let items = page["items"] as? [[String: Any]] ?? []
        return items.first { $0["email"] as? String == email }?["id"] as? String ?? ""
    }
}
