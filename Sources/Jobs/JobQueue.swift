import Foundation
import Persistence
import RedisClient

/// The Redis keys of the queues, under one prefix (`CP_QUEUE_PREFIX`). A tenant's keys carry the hash
/// tag `{t:<tenant>}`, so they share one Redis Cluster slot; the ready set and the epoch are one key each.
public struct QueueKeys: Sendable {
    public let prefix: String

    public init(prefix: String) { self.prefix = prefix }

    /// The tenant's job stream (entries carry job ids only; Postgres holds the jobs).
    public func jobs(_ tenant: TenantID) -> String { "\(prefix):{t:\(tenant)}:jobs" }
    /// Tenants that may have unread jobs, scored by when they were last served: workers take the lowest,
    /// so tenants take turns.
    public var ready: String { "\(prefix):ready" }
    /// A random value set once per Redis lifetime; when it is gone, Redis lost its data.
    public var epoch: String { "\(prefix):epoch" }
    /// Every tenant that has a stream, for the reaper's pass over entries read but never acknowledged.
    public var streams: String { "\(prefix):streams" }
    /// The consumer group every worker reads a tenant's stream in.
    public static let group = "workers"
}

/// A job's place on a queue: its tenant and id, and the attempts it had used when it was sent (a note
/// that it reached Redis only holds while that is still so).
public struct QueuedJob: Sendable, Hashable {
    public let tenantID: TenantID
    public let jobID: UUID
    public let attempts: Int

    public init(tenantID: TenantID, jobID: UUID, attempts: Int = 0) {
        self.tenantID = tenantID
        self.jobID = jobID
        self.attempts = attempts
    }
}

/// Puts job ids on tenants' streams and reads queue depths. Enqueueing a job twice is harmless: a worker
/// claims a job in Postgres before running it, and a claimed or finished job is skipped.
public struct JobQueue: Sendable {
    public let redis: RedisClient
    public let keys: QueueKeys

    public init(redis: RedisClient, keys: QueueKeys) {
        self.redis = redis
        self.keys = keys
    }

    /// Appends each job to its tenant's stream (creating the stream's consumer group if Redis lost it),
    /// then marks the tenants ready, and answers each tenant's depth afterwards; one round trip (two on a
    /// cluster, whose ready set may be on another node than a stream).
    ///
    /// The entries are on their streams before their tenants are marked ready: a worker that finds a
    /// tenant's stream empty takes it out of the ready set, so a mark that came first could be taken out
    /// before the entry arrives, leaving it unread while its tenant waits to be marked again.
    @discardableResult
    public func enqueue(_ jobs: [QueuedJob], timeout: Duration? = nil) async throws -> [TenantID: Int] {
        guard !jobs.isEmpty else { return [:] }
        let tenants = Array(Set(jobs.map(\.tenantID)))
        var entries: [[String]] = []
        for tenant in tenants {
            // BUSYGROUP (the group exists) is the usual answer and is ignored below.
            entries.append(["XGROUP", "CREATE", keys.jobs(tenant), QueueKeys.group, "0", "MKSTREAM"])
        }
        for job in jobs {
            entries.append(["XADD", keys.jobs(job.tenantID), "*", "job", job.jobID.uuidString.lowercased()])
        }
        var commands: [[String]] = []
        for tenant in tenants {
            commands.append(readyMark(tenant))
            commands.append(["XLEN", keys.jobs(tenant)])
        }
        for tenant in tenants { commands.append(["SADD", keys.streams, tenant.description]) }
        let replies = try await redis.pipeline(phases: [entries, commands], timeout: timeout)
        for reply in replies {
            if case .error(let message) = reply, !message.hasPrefix("BUSYGROUP") { throw RedisError.server(message) }
        }
        var depths: [TenantID: Int] = [:]
        let tail = replies.dropLast(tenants.count).suffix(tenants.count * 2)
        for (index, tenant) in tenants.enumerated() {
            if case .integer(let depth) = tail[tail.startIndex + index * 2 + 1] { depths[tenant] = depth }
        }
        return depths
    }

    /// Jobs on the tenant's stream not yet finished (unread, or read and not acknowledged).
    public func depth(_ tenant: TenantID, timeout: Duration? = nil) async throws -> Int {
        guard case .integer(let depth) = try await redis.command(["XLEN", keys.jobs(tenant)], timeout: timeout) else {
            throw RedisError.io("XLEN answered no integer")
        }
        return depth
    }

    /// Marks the tenant ready (it has entries to read), unless it is already.
    public func markReady(_ tenant: TenantID) async throws {
        try await redis.command(readyMark(tenant))
    }

    /// The command that marks a tenant ready. Score 0: a tenant that just got work is served next; one that
    /// keeps having work is moved behind the others each time it is served (see `nextTenant`). `NX`: a
    /// tenant already waiting keeps its place.
    func readyMark(_ tenant: TenantID) -> [String] {
        ["ZADD", keys.ready, "NX", "0", tenant.description]
    }

    /// Sets the epoch if Redis has none and answers whether this call set it: true once per Redis
    /// lifetime (a fresh or emptied Redis), to the one replica that then rebuilds the queues from Postgres.
    public func claimEpoch() async throws -> Bool {
        let reply = try await redis.command(["SET", keys.epoch, UUID().uuidString, "NX"])
        return reply == .status("OK")
    }
}
