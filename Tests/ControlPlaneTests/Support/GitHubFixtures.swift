import Foundation

/// Delivery bodies shaped like GitHub's own (push, ping, pull_request), with their real variations:
/// `created_at` as epoch seconds in push payloads, `head_commit: null` and forty-zero `after` on
/// deletions, `pusher` without `username`. Serialised compactly, as GitHub sends them.
enum GitHubFixtures {
    static let zeros = String(repeating: "0", count: 40)

    static func sha(_ seed: Int) -> String {
        var text = ""
        var value = UInt64(truncatingIfNeeded: seed) &* 0x9E37_79B9_7F4A_7C15
        while text.count < 40 {
            value = value &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            text += String(format: "%016llx", value)
        }
        return String(text.prefix(40))
    }

    static func repository(_ fullName: String, pushPayload: Bool) -> [String: Any] {
        let owner = String(fullName.split(separator: "/").first ?? "octo")
        return [
            "id": 186_853_002, "node_id": "MDEwOlJlcG9zaXRvcnkxODY4NTMwMDI=",
            "name": String(fullName.split(separator: "/").last ?? "repo"),
            "full_name": fullName, "private": false,
            "owner": ["name": owner, "email": NSNull(), "login": owner, "id": 21_031_067, "type": "User"],
            "html_url": "https://github.com/\(fullName)", "description": NSNull(), "fork": false,
            // Push payloads carry epoch seconds here; every other event carries ISO 8601 text.
            "created_at": pushPayload ? 1_557_933_565 as Any : "2019-05-15T15:19:25Z" as Any,
            "updated_at": "2019-05-15T15:21:03Z",
            "pushed_at": pushPayload ? 1_557_933_657 as Any : "2019-05-15T15:20:57Z" as Any,
            "default_branch": "main", "master_branch": "main", "topics": [], "visibility": "public",
        ]
    }

    static func commit(
        _ seed: Int, message: String, repository: String, timestamp: String = "2026-11-20T16:04:05+01:00"
    )
        -> [String: Any]
    {
        let id = sha(seed)
        return [
            "id": id, "tree_id": sha(seed + 1000), "distinct": true, "message": message, "timestamp": timestamp,
            "url": "https://github.com/\(repository)/commit/\(id)",
            "author": ["name": "Ada Lovelace", "email": "ada@example.test", "username": "ada"],
            // A committer without a GitHub account has no `username`.
            "committer": ["name": "GitHub", "email": "noreply@github.com"],
            "added": ["docs/notes.md"], "removed": [], "modified": ["Sources/App/main.swift"],
        ]
    }

    /// A push of `commits` commits (0 for a branch created without new commits); `forced`, `created`,
    /// `deleted` as GitHub sets them.
    static func push(
        repository: String = "octo-org/hello-world", ref: String = "refs/heads/main", commits count: Int,
        seed: Int = 1, forced: Bool = false, created: Bool = false, deleted: Bool = false,
        messages: [String]? = nil
    ) -> [String: Any] {
        let commits = (0..<count).map { index in
            commit(
                seed * 100 + index,
                message: messages?[index] ?? "Fix the login flow (#\(index))\n\nI will add tests by Friday.",
                repository: repository)
        }
        let before = created ? zeros : sha(seed * 7)
        let after = deleted ? zeros : (commits.last?["id"] as? String ?? sha(seed * 11))
        return [
            "ref": ref, "before": before, "after": after, "created": created, "deleted": deleted, "forced": forced,
            "base_ref": NSNull(),
            "compare": "https://github.com/\(repository)/compare/\(before.prefix(12))...\(after.prefix(12))",
            "commits": commits, "head_commit": deleted ? NSNull() : (commits.last ?? NSNull()) as Any,
            "repository": GitHubFixtures.repository(repository, pushPayload: true),
            "pusher": ["name": "ada", "email": "ada@example.test"],
            "sender": ["login": "ada", "id": 1, "type": "User", "site_admin": false],
        ]
    }

    static func ping(hookID: Int = 30) -> [String: Any] {
        [
            "zen": "Design for failure.", "hook_id": hookID,
            "hook": [
                "type": "Repository", "id": hookID, "name": "web", "active": true, "events": ["push", "pull_request"],
                "config": ["content_type": "json", "insecure_ssl": "0", "url": "https://example.test/hook"],
            ],
            "repository": repository("octo-org/hello-world", pushPayload: false),
            "sender": ["login": "ada", "id": 1],
        ]
    }

    static func pullRequest(action: String = "opened") -> [String: Any] {
        [
            "action": action, "number": 2,
            "pull_request": [
                "id": 279_147_437, "number": 2, "state": "open", "title": "Update the README", "body": NSNull(),
                "merged_at": NSNull(), "head": ["ref": "feature", "sha": sha(5)],
                "base": ["ref": "main", "sha": sha(6)],
            ],
            "repository": repository("octo-org/hello-world", pushPayload: false),
            "sender": ["login": "ada", "id": 1],
        ]
    }

    static func bytes(_ object: [String: Any], pretty: Bool = false) throws -> [UInt8] {
        Array(
            try JSONSerialization.data(
                withJSONObject: object, options: pretty ? [.prettyPrinted, .sortedKeys] : [.sortedKeys]))
    }
}
