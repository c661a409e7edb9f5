import Foundation
import Jobs

/// What ingest reads from a verified GitHub delivery body to route it: only a few fields, each read
/// leniently (GitHub's payloads vary by event and over time: `head_commit: null`, `created_at` as epoch
/// seconds in push payloads and ISO text elsewhere, `pusher` without `username`), so an unexpected
/// shape in a field ingest does not use never refuses a delivery.
public struct GitHubPayload: Sendable, Equatable {
    public var action: String?
    /// `repository.full_name` when it is a plausible `owner/name`.
    public var repository: String?
    public var ref: String?
    public var deleted: Bool
    public var after: String?
    public var commitCount: Int

    /// Whether the body was `application/x-www-form-urlencoded` (GitHub's other content type).
    public var formEncoded: Bool
    /// The media type the body was sent as.
    public var contentType: String { formEncoded ? "application/x-www-form-urlencoded" : "application/json" }

    /// The fields read from a body sent as `application/json` (the body is the document) or as
    /// `application/x-www-form-urlencoded` (its `payload` field is). The two are told apart by the body
    /// itself: a form starts with a field name, a JSON document with `{` (after any whitespace).
    public init(body: [UInt8]) throws {
        formEncoded = body.starts(with: Array("payload=".utf8))
        let json = formEncoded ? try Self.formPayload(body) : Data(body)
        let envelope: Envelope
        do {
            envelope = try JSONDecoder().decode(Envelope.self, from: json)
        } catch {
            throw MalformedPayload(reason: "The body is not a JSON object.")
        }
        action = envelope.action.flatMap { $0.count <= 64 ? $0 : nil }
        repository = envelope.repository.flatMap(Self.repositoryName)
        ref = envelope.ref.map { String($0.prefix(255)) }
        deleted = envelope.deleted ?? false
        after = envelope.after
        commitCount = envelope.commitCount ?? 0
    }

    /// Whether this push removed a branch or tag: `deleted`, or `after` of forty zeros.
    public var isDeletion: Bool { deleted || after == String(repeating: "0", count: 40) }

    public static func formPayload(_ body: [UInt8]) throws -> Data {
        for pair in body.split(separator: UInt8(ascii: "&")) {
            guard pair.starts(with: Array("payload=".utf8)) else { continue }
            let encoded = String(decoding: pair.dropFirst(8), as: UTF8.self).replacingOccurrences(of: "+", with: " ")
            guard let decoded = encoded.removingPercentEncoding else { break }
            return Data(decoded.utf8)
        }
        throw MalformedPayload(reason: "A form-encoded delivery needs a percent-encoded `payload` field.")
    }

    public static func repositoryName(_ name: String) -> String? {
        let parts = name.split(separator: "/", omittingEmptySubsequences: false)
        let allowed = { (c: Character) in c.isASCII && (c.isLetter || c.isNumber || "_.-".contains(c)) }
        guard name.count <= 140, parts.count == 2, parts.allSatisfy({ !$0.isEmpty && $0.allSatisfy(allowed) }) else {
            return nil
        }
        return name
    }

    /// The top level of a delivery: each field is optional and a field of another type reads as absent.
    private struct Envelope: Decodable {
        var action: String?
        var repository: String?
        var ref: String?
        var deleted: Bool?
        var after: String?
        var commitCount: Int?

        private enum Keys: String, CodingKey { case action, repository, ref, deleted, after, commits }
        private enum RepositoryKeys: String, CodingKey { case fullName = "full_name" }

        init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: Keys.self)
            action = try? container.decodeIfPresent(String.self, forKey: .action)
            repository = try? container.nestedContainer(keyedBy: RepositoryKeys.self, forKey: .repository)
                .decodeIfPresent(String.self, forKey: .fullName)
            ref = try? container.decodeIfPresent(String.self, forKey: .ref)
            deleted = try? container.decodeIfPresent(Bool.self, forKey: .deleted)
            after = try? container.decodeIfPresent(String.self, forKey: .after)
            // Nothing of a commit is read here; the array's length is enough.
            if let commits = try? container.nestedUnkeyedContainer(forKey: .commits) {
                commitCount = commits.count ?? 0
            }
        }
    }
}

/// A verified delivery whose body is not what GitHub sends.
public struct MalformedPayload: Error, Sendable, Equatable {
    public let reason: String
}

/// What a delivery becomes: jobs for some pipelines, or a record that it was ignored and why.
public enum DeliveryDecision: Sendable, Equatable {
    case jobs([Pipeline])
    case ignored(reason: String)

    /// The decision for `event` with `payload` on an endpoint enabling `pipelines` for `repositories`
    /// (empty: all; compared case-insensitively).
    public static func decide(
        event: String, payload: GitHubPayload, pipelines: [Pipeline], repositories: [String]
    ) -> DeliveryDecision {
        switch event {
        case "ping":
            return .ignored(reason: "ping")
        case "push":
            if payload.isDeletion { return .ignored(reason: "The push deleted a branch or tag.") }
            if payload.commitCount == 0 { return .ignored(reason: "The push has no commits.") }
            guard let repository = payload.repository else {
                return .ignored(reason: "The push names no repository.")
            }
            if !repositories.isEmpty, !repositories.contains(where: { $0.lowercased() == repository.lowercased() }) {
                return .ignored(reason: "The repository is not in the endpoint's allow-list.")
            }
            if pipelines.isEmpty { return .ignored(reason: "The endpoint enables no pipeline.") }
            return .jobs(pipelines.sorted())
        default:
            return .ignored(reason: "The '\(event)' event makes no jobs.")
        }
    }
}
