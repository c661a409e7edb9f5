import Auth
import Foundation
import HTTPTypes
import HummingbirdTesting
import TestKit
import Testing

@testable import ControlPlane
@testable import Edge

/// Privileges follow people. Every operation of `openapi.yaml` is called with every credential a
/// person of each role can make: their session, a key of each single scope, and keys made by keys
/// (a key of all their scopes, a key it made, and that key's key of each single scope). Each call must
/// pass the scope gate exactly when the credential holds the operation's scope and its owner's role
/// allows it, and never answer 5xx. Then an admin is lowered to member, another removed with their keys
/// and a third removed with their keys handed to a member, each on another replica; within a second
/// the matrix holds again for every key they owned, keys made by keys included.
@Suite(.timeLimit(.minutes(5))) struct PrivilegeMatrixTests {
    @Test func everyOperationScopeAndRoleBeforeAndAfterDemotionAndRemoval() async throws {
        let operations = try SpecOperation.all()
        #expect(Set(operations.map(\.id)) == Set(OperationAccess.table.keys), "the spec and the access table differ")
        #expect(OperationAccess.table["putNotifications"] == .tenant(.tenantAdmin), "invitation tokens go there")
        let gated = operations.filter { OperationAccess.table[$0.id] != .anyone }

        try await TestEnvironment.withApp { replicaA in
            let tenant = try await replicaA.signup()
            let ownerAccess = try await replicaA.login(tenant.email, tenant.password)
            var joined: [String: Person] = ["owner": Person(role: .owner, access: ownerAccess, id: "")]
            for (name, role) in [("lowered", "admin"), ("removed", "admin"), ("handing", "admin"), ("heir", "member")] {
                let member = try await replicaA.join(tenant, role: role)
                joined[name] = Person(role: Role(rawValue: role)!, access: member.access, id: member.id)
            }
            let people = joined
            var checked = 0
            var made: [String: [Credential]] = [:]
            for (name, person) in people.sorted(by: { $0.key < $1.key }) {
                made[name] = try await Self.keys(of: person, on: replicaA)
                // Before any change, every credential of the owner, one admin and the member.
                if ["owner", "lowered", "heir"].contains(name) {
                    let session = Credential(
                        token: person.access, scopes: Set(Scope.allCases), label: "\(name) session")
                    checked += try await Self.check([session] + made[name]!, bound: person.role, gated, on: replicaA)
                }
            }
            let keysOf = made

            // Replica B lowers one admin, removes one with their keys and one with their keys handed on.
            let heir = people["heir"]!
            try await TestEnvironment.withApp { replicaB in
                #expect(try await replicaB.patchRole(people["lowered"]!.id, "member", token: ownerAccess).status == .ok)
                let revoked = try await replicaB.send(.delete, "/v1/users/\(people["removed"]!.id)", token: ownerAccess)
                #expect(try revoked.jsonObject()["key_count"] as? Int == keysOf["removed"]!.count)
                let handed = try await replicaB.send(
                    .delete, "/v1/users/\(people["handing"]!.id)?keys=transfer&transfer_to=\(heir.id)",
                    token: ownerAccess)
                #expect(try handed.jsonObject()["key_count"] as? Int == keysOf["handing"]!.count)
            }
            // Replica A hears it within a second: the removed admin's keys all stop, the lowered admin's
            // key of all admin scopes stops, the handed keys act as the member's.
            let probes = keysOf["removed"]! + keysOf["lowered"]!.filter { $0.label.hasSuffix("all") }
            let took = try await waitUntil(timeout: .seconds(1)) {
                for key in probes
                where try await replicaA.send(.get, "/v1/tenant", token: key.token).status != .unauthorized {
                    return false
                }
                let handed = keysOf["handing"]!.first { $0.scopes == [.tenantRead] }!
                return try await replicaA.send(.get, "/v1/tenant", token: handed.token).status == .ok
            }
            #expect(took != nil, "a change to a person reached another replica's keys after more than a second")

            // A lowered role revokes the keys beyond it, made by keys or not; those within it keep working.
            let lowered = keysOf["lowered"]!.map {
                $0.revoked(unless: $0.scopes?.isSubset(of: Role.member.scopes) == true)
            }
            checked += try await Self.check(lowered, bound: .member, gated, on: replicaA)
            checked += try await Self.check(keysOf["removed"]!.map { $0.revoked() }, bound: .admin, gated, on: replicaA)
            // Handed-on keys keep their scopes but act only as far as the heir's role allows.
            checked += try await Self.check(keysOf["handing"]!, bound: .member, gated, on: replicaA)
            print("privilege matrix: \(gated.count) operations, \(checked) calls")
        }
    }

    // MARK: - Credentials

    struct Person: Sendable {
        let role: Role
        let access: String
        let id: String
    }

    /// A token and the scopes it was made with; nil scopes when it must no longer authenticate.
    struct Credential: Sendable {
        let token: String
        let scopes: Set<Scope>?
        let label: String

        func revoked(unless keeps: Bool = false) -> Credential {
            keeps ? self : Credential(token: token, scopes: nil, label: label + " (revoked)")
        }
    }

    /// The person's keys: one per scope their role allows (a key of any other scope is refused), a key
    /// of all of them ("all"), a key that key made ("chain"), and one per scope made by that one. A role
    /// without `keys:write` makes none.
    static func keys(of person: Person, on client: any TestClientProtocol) async throws -> [Credential] {
        let allowed = person.role.scopes
        let makesKeys = allowed.contains(.keysWrite)
        var keys: [Credential] = []
        for scope in Scope.allCases {
            let made = try await make([scope], with: person.access, on: client)
            #expect((made != nil) == (makesKeys && allowed.contains(scope)), "\(person.role) making a \(scope) key")
            if let made { keys.append(Credential(token: made, scopes: [scope], label: "\(person.role) \(scope)")) }
        }
        guard makesKeys else { return keys }
        let all = try #require(try await make(allowed, with: person.access, on: client))
        keys.append(Credential(token: all, scopes: allowed, label: "\(person.role) all"))
        let chain = try #require(try await make(allowed, with: all, on: client))
        keys.append(Credential(token: chain, scopes: allowed, label: "\(person.role) chain"))
        for scope in Scope.allCases {
            let made = try await make([scope], with: chain, on: client)
            #expect((made != nil) == allowed.contains(scope), "a \(person.role)'s key making a \(scope) key")
            if let made {
                keys.append(Credential(token: made, scopes: [scope], label: "\(person.role) chain \(scope)"))
            }
        }
        return keys
    }

    /// A new key's token, or nil when its maker was refused (403).
    static func make(_ scopes: Set<Scope>, with token: String, on client: any TestClientProtocol) async throws
        -> String?
    {
        let response = try await client.send(
            .post, "/v1/keys", token: token, json: ["name": "matrix", "scopes": scopes.map(\.rawValue).sorted()])
        if response.status == .forbidden { return nil }
        #expect(response.status == .created, "\(String(buffer: response.body))")
        return try response.jsonObject()["token"] as? String
    }

    // MARK: - The matrix

    /// How the gate answered a call.
    enum Gate: Equatable {
        case passed, refused, unauthenticated
    }

    static func gate(_ response: TestResponse) throws -> Gate {
        switch response.status.code {
        case 401: return .unauthenticated
        case 403:
            let detail = try response.jsonObject()["detail"] as? String ?? ""
            let gateRefusals = ["This route needs", "Operator tokens cannot"]
            return gateRefusals.contains { detail.hasPrefix($0) } ? .refused : .passed
        default: return .passed
        }
    }

    /// What the gate must answer `credential` on `operation` while its owner's role is `bound`.
    static func expected(_ credential: Credential, bound: Role, _ operation: SpecOperation) -> Gate {
        guard let scopes = credential.scopes else { return .unauthenticated }
        guard case .tenant(let needed) = OperationAccess.table[operation.id] else { return .refused }
        return scopes.intersection(bound.scopes).contains(needed) ? .passed : .refused
    }

    /// Calls every operation with every credential (eight at a time); answers how many calls it made.
    static func check(
        _ credentials: [Credential], bound: Role, _ operations: [SpecOperation], on client: any TestClientProtocol
    ) async throws -> Int {
        let calls = credentials.flatMap { credential in operations.map { (credential, $0) } }
        try await withThrowingTaskGroup(of: Void.self) { group in
            for (index, (credential, operation)) in calls.enumerated() {
                if index >= 8 { try await group.next() }
                group.addTask {
                    let response = try await client.send(
                        operation.method, operation.path, token: credential.token,
                        json: operation.hasBody ? [String: Any]() : nil)
                    let answered = try gate(response)
                    let wanted = expected(credential, bound: bound, operation)
                    #expect(
                        answered == wanted,
                        "\(credential.label) on \(operation.id): \(response.status) \(String(buffer: response.body))")
                    #expect(response.status.code < 500, "\(operation.id): \(String(buffer: response.body))")
                }
            }
            try await group.waitForAll()
        }
        return calls.count
    }
}

/// An operation of `openapi.yaml`: its id, method, and a path with each parameter filled in.
struct SpecOperation: Sendable {
    let id: String
    let method: HTTPRequest.Method
    let path: String

    var hasBody: Bool { [.post, .put, .patch].contains(method) }

    /// Every operation in the spec, each path parameter a fresh UUID.
    static func all() throws -> [SpecOperation] {
        let root = TestEnvironment.repositoryRoot
        let text = try String(contentsOf: root.appendingPathComponent("openapi.yaml"), encoding: .utf8)
        var operations: [SpecOperation] = []
        var path: String?
        var method: HTTPRequest.Method?
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            if line.hasPrefix("  /"), line.hasSuffix(":") {
                path = String(line.dropFirst(2).dropLast())
                method = nil
            } else if !line.hasPrefix(" ") {
                path = nil
            } else if line.hasPrefix("    "), !line.hasPrefix("     "), line.hasSuffix(":"),
                let verb = HTTPRequest.Method(String(line.dropFirst(4).dropLast()).uppercased()),
                ["get", "put", "post", "patch", "delete"].contains(String(line.dropFirst(4).dropLast()))
            {
                method = verb
            } else if let path, let method, line.hasPrefix("      operationId: ") {
                let id = String(line.dropFirst("      operationId: ".count))
                let filled = path.replacingOccurrences(
                    of: #"\{[^}]+\}"#, with: UUID().uuidString.lowercased(), options: .regularExpression)
                operations.append(SpecOperation(id: id, method: method, path: filled))
            }
        }
        return operations
    }
}
