import Foundation
import Persistence
import RedisClient

/// One entry read from a tenant's stream.
public struct StreamEntry: Sendable, Equatable {
    public let id: String
    public let jobID: UUID
}

extension JobQueue {
    /// Takes the tenant with the lowest score (the one served longest ago, or just made ready) and moves
    /// it behind every other, in one atomic step on the one ready key (cluster-safe). Nil: no tenant has
    /// work. With every worker slot taking turns this way, a tenant's single job waits for at most one
    /// job per slot, however many jobs another tenant has queued.
    public func nextTenant() async throws -> TenantID? {
        let reply = try await redis.command(["EVAL", Self.nextTenantScript, "1", keys.ready])
        guard let text = reply.string else { return nil }
        return TenantID(string: text)
    }

    static let nextTenantScript = """
        local t = redis.call('ZRANGE', KEYS[1], 0, 0)
        if #t == 0 then return false end
        local now = redis.call('TIME')
        redis.call('ZADD', KEYS[1], 'XX', tonumber(now[1]) * 1000000 + tonumber(now[2]), t[1])
        return t[1]
        """

    /// The tenant's next unread entry for `consumer`. When there is none, the tenant leaves the ready set,
    /// then the stream is read once more: an entry added in between puts the tenant back and is returned.
    public func read(_ tenant: TenantID, consumer: String) async throws -> StreamEntry? {
        if let entry = try await readOnce(tenant, consumer: consumer) { return entry }
        try await redis.command(["ZREM", keys.ready, tenant.description])
        guard let entry = try await readOnce(tenant, consumer: consumer) else { return nil }
        try await markReady(tenant)
        return entry
    }

    private func readOnce(_ tenant: TenantID, consumer: String) async throws -> StreamEntry? {
        let command = [
            "XREADGROUP", "GROUP", QueueKeys.group, consumer, "COUNT", "1", "STREAMS", keys.jobs(tenant), ">",
        ]
        let reply: RedisReply
        do {
            reply = try await redis.command(command)
        } catch RedisError.server(let message) where message.hasPrefix("NOGROUP") {
            // Redis lost the group (or the stream): made again from the start of whatever stream exists.
            _ = try? await redis.command(["XGROUP", "CREATE", keys.jobs(tenant), QueueKeys.group, "0", "MKSTREAM"])
            reply = try await redis.command(command)
        }
        return Self.entries(inStreamsReply: reply).first
    }

    /// Acknowledges an entry and deletes it, so the stream's length is the tenant's open jobs.
    public func acknowledge(_ tenant: TenantID, entry: String) async throws {
        let replies = try await redis.pipeline([
            ["XACK", keys.jobs(tenant), QueueKeys.group, entry], ["XDEL", keys.jobs(tenant), entry],
        ])
        for reply in replies { if case .error(let message) = reply { throw RedisError.server(message) } }
    }

    /// Entries of the tenant read by a consumer at least `minimumIdle` ago and never acknowledged (their
    /// worker died between reading and claiming), taken over by `consumer`.
    public func reclaim(_ tenant: TenantID, consumer: String, minimumIdle: Duration) async throws -> [StreamEntry] {
        let idle = String(max(0, minimumIdle.components.seconds * 1000))
        let reply: RedisReply
        do {
            reply = try await redis.command([
                "XAUTOCLAIM", keys.jobs(tenant), QueueKeys.group, consumer, idle, "0-0", "COUNT", "100",
            ])
        } catch RedisError.server(let message) where message.hasPrefix("NOGROUP") {
            return []
        }
        guard case .array(let parts) = reply, parts.count >= 2 else { return [] }
        return Self.entries(parts[1])
    }

    /// Every tenant that has had a stream.
    public func tenantsWithStreams() async throws -> [TenantID] {
        guard case .array(let members) = try await redis.command(["SMEMBERS", keys.streams]) else { return [] }
        return members.compactMap { $0.string.flatMap(TenantID.init(string:)) }
    }

    /// The entries of an XREADGROUP reply: `[[key, [[id, [field, value, ...]], ...]], ...]`.
    static func entries(inStreamsReply reply: RedisReply) -> [StreamEntry] {
        guard case .array(let streams) = reply else { return [] }
        return streams.flatMap { stream -> [StreamEntry] in
            guard case .array(let parts) = stream, parts.count == 2 else { return [] }
            return entries(parts[1])
        }
    }

    /// `[[id, [field, value, ...]], ...]`; entries without a readable job id are skipped.
    static func entries(_ reply: RedisReply) -> [StreamEntry] {
        guard case .array(let items) = reply else { return [] }
        return items.compactMap { item in
            guard case .array(let parts) = item, parts.count == 2, let id = parts[0].string,
                case .array(let fields) = parts[1]
            else { return nil }
            var index = 0
            while index + 1 < fields.count {
                if fields[index].string == "job", let job = fields[index + 1].string.flatMap(UUID.init(uuidString:)) {
                    return StreamEntry(id: id, jobID: job)
                }
                index += 2
            }
            return nil
        }
    }
}
