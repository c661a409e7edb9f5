import Foundation

/// A commit of a push as GitHub describes it, read leniently: a field of an unexpected type reads as
/// absent, and a commit without an id is skipped.
public struct PushCommit: Sendable, Equatable {
    public let sha: String
    public let message: String
    /// ISO 8601 with the committer's own offset (e.g. `2026-11-20T16:04:05+01:00`).
    public let timestamp: String?
    public let authorName: String?
    public let authorEmail: String?
    public let added: [String]
    public let removed: [String]
    public let modified: [String]

    public init(
        sha: String, message: String, timestamp: String?, authorName: String?, authorEmail: String?,
        added: [String] = [], removed: [String] = [], modified: [String] = []
    ) {
        self.sha = sha
        self.message = message
        self.timestamp = timestamp
        self.authorName = authorName
        self.authorEmail = authorEmail
        self.added = added
        self.removed = removed
        self.modified = modified
    }

    /// The commits of a push delivery body (JSON or form-encoded), at most `limit` of them (GitHub itself
    /// lists at most 2048).
    public static func commits(inDeliveryBody body: [UInt8], limit: Int = 2048) throws -> [PushCommit] {
        let json = body.starts(with: Array("payload=".utf8)) ? try GitHubPayload.formPayload(body) : Data(body)
        guard let push = try? JSONDecoder().decode(Push.self, from: json) else {
            throw MalformedPayload(reason: "The delivery body is not a JSON object.")
        }
        return Array(push.commits.prefix(limit))
    }

    private struct Push: Decodable {
        var commits: [PushCommit] = []

        private enum Keys: String, CodingKey { case commits }

        init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: Keys.self)
            guard var list = try? container.nestedUnkeyedContainer(forKey: .commits) else { return }
            while !list.isAtEnd {
                if let commit = try? list.decode(Commit.self), let value = commit.value {
                    commits.append(value)
                }
                // A commit of another shape is passed over so the next one can be read.
                else {
                    _ = try? list.decode(Skip.self)
                }
            }
        }
    }

    private struct Skip: Decodable { init(from decoder: any Decoder) throws {} }

    private struct Commit: Decodable {
        var value: PushCommit?

        private enum Keys: String, CodingKey { case id, message, timestamp, author, added, removed, modified }
        private enum AuthorKeys: String, CodingKey { case name, email }

        init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: Keys.self)
            guard let sha = try? container.decode(String.self, forKey: .id), (7...64).contains(sha.count),
                sha.allSatisfy(\.isHexDigit)
            else { return }
            let author = try? container.nestedContainer(keyedBy: AuthorKeys.self, forKey: .author)
            func files(_ key: Keys) -> [String] { (try? container.decode([String].self, forKey: key)) ?? [] }
            value = PushCommit(
                sha: sha.lowercased(), message: (try? container.decode(String.self, forKey: .message)) ?? "",
                timestamp: try? container.decode(String.self, forKey: .timestamp),
                authorName: try? author?.decode(String.self, forKey: .name),
                authorEmail: try? author?.decode(String.self, forKey: .email), added: files(.added),
                removed: files(.removed), modified: files(.modified))
        }
    }
}
