import Crypto
import Foundation
import Persistence
import Providers
import RedisClient

/// The exact-match response cache of the LLM policy, in Redis under the tenant's own hash-tagged keys:
/// the answers in one hash (`cp:{tenant}:llm-cache`, field = SHA-256 of the request), their expiry
/// times in a sorted set (`…:expiry`) and their total size (`…:bytes`). A hit answers what the
/// candidate answered before, costs no budget and is recorded as cached.
///
/// Each tenant's answers hold at most `bytesPerTenant` (`CP_CACHE_BYTES_PER_TENANT`): storing past it
/// drops the entries nearest their expiry first, so one tenant's unique prompts cannot fill the Redis
/// the job queues live in. The three keys expire with the newest entry, so Redis, run with
/// `maxmemory-policy volatile-ttl`, may evict caches under pressure but never a queue (which has no
/// expiry). Redis holds nothing Postgres needs: losing the cache only costs calls.
public struct ResponseCache: Sendable {
    struct Entry: Codable {
        let provider: String
        let model: String
        let content: String
        let finishReason: String
        let promptTokens: Int64
        let completionTokens: Int64
        let reasoningTokens: Int64
        let totalTokens: Int64
    }

    /// Where one request's answer is kept.
    public struct Key: Sendable, Equatable {
        let tenantID: TenantID
        let digest: String

        var entries: String { "cp:{\(tenantID)}:llm-cache" }
        var expiry: String { "cp:{\(tenantID)}:llm-cache:expiry" }
        var bytes: String { "cp:{\(tenantID)}:llm-cache:bytes" }
    }

    let redis: RedisClient
    let bytesPerTenant: Int

    public init(redis: RedisClient, bytesPerTenant: Int = 4 << 20) {
        self.redis = redis
        self.bytesPerTenant = bytesPerTenant
    }

    /// The key of one request: its kind, the candidates it may go to, and everything that shapes the answer.
    static func key(tenantID: TenantID, kind: TaskKind, candidates: [LLMPolicy.Candidate], request: ChatRequest)
        -> Key
    {
        var hasher = SHA256()
        func add(_ text: String) {
            hasher.update(data: Data(text.utf8))
            hasher.update(data: Data([0]))
        }
        add(kind.rawValue)
        for candidate in candidates { add(candidate.id) }
        add(String(request.maxTokens))
        add(request.temperature.map { String($0) } ?? "-")
        add(request.topP.map { String($0) } ?? "-")
        for stop in request.stop { add(stop) }
        for message in request.messages {
            add(message.role.rawValue)
            add(message.content)
        }
        return Key(tenantID: tenantID, digest: hasher.finalize().map { String(format: "%02x", $0) }.joined())
    }

    func lookup(_ key: Key) async -> (ChatResult, ProviderKind)? {
        let now = String(Int64(Date().timeIntervalSince1970 * 1000))
        guard
            case .bulk(let bytes)? = try? await redis.command(
                ["EVAL", Self.lookupScript, "2", key.entries, key.expiry, key.digest, now]),
            let entry = try? JSONDecoder().decode(Entry.self, from: Data(bytes)),
            let provider = ProviderKind(rawValue: entry.provider)
        else { return nil }
        let usage = TokenUsage(
            promptTokens: entry.promptTokens, completionTokens: entry.completionTokens,
            reasoningTokens: entry.reasoningTokens, totalTokens: entry.totalTokens)
        return (
            ChatResult(
                id: "", model: entry.model, content: entry.content, finishReason: entry.finishReason, usage: usage),
            provider
        )
    }

    func store(_ key: Key, result: ChatResult, provider: ProviderKind, ttlSeconds: Int) async {
        let entry = Entry(
            provider: provider.rawValue, model: result.model, content: result.content,
            finishReason: result.finishReason, promptTokens: result.usage.promptTokens,
            completionTokens: result.usage.completionTokens, reasoningTokens: result.usage.reasoningTokens,
            totalTokens: result.usage.totalTokens)
        guard let data = try? JSONEncoder().encode(entry), data.count + key.digest.utf8.count <= bytesPerTenant else {
            return
        }
        let now = Int64(Date().timeIntervalSince1970 * 1000)
        _ = try? await redis.command([
            "EVAL", Self.storeScript, "3", key.entries, key.expiry, key.bytes, key.digest,
            String(decoding: data, as: UTF8.self), String(now), String(Int64(ttlSeconds) * 1000),
            String(bytesPerTenant),
        ])
    }

    /// KEYS: entries, expiry. ARGV: digest, now (ms). The entry, unless it is missing or expired.
    static let lookupScript = """
        local at = redis.call('ZSCORE', KEYS[2], ARGV[1])
        if not at or tonumber(at) <= tonumber(ARGV[2]) then return false end
        return redis.call('HGET', KEYS[1], ARGV[1])
        """

    /// KEYS: entries, expiry, bytes. ARGV: digest, entry, now (ms), ttl (ms), the tenant's cap in bytes.
    /// Forgets expired entries, then the ones nearest expiry until the new one fits, stores it and has
    /// all three keys expire with the newest entry. A size count lost to eviction starts the cache over.
    static let storeScript = """
        local digest, value = ARGV[1], ARGV[2]
        local now, ttl, cap = tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5])
        local size = string.len(value) + string.len(digest)
        if size > cap then return 0 end
        if redis.call('EXISTS', KEYS[3]) == 0 then redis.call('DEL', KEYS[1], KEYS[2]) end
        local function forget(member)
            local old = redis.call('HGET', KEYS[1], member)
            if old then
                redis.call('HDEL', KEYS[1], member)
                redis.call('DECRBY', KEYS[3], string.len(old) + string.len(member))
            end
            redis.call('ZREM', KEYS[2], member)
        end
        for _, member in ipairs(redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', now)) do forget(member) end
        forget(digest)
        while tonumber(redis.call('GET', KEYS[3]) or '0') + size > cap do
            local nearest = redis.call('ZRANGE', KEYS[2], 0, 0)
            if #nearest == 0 then break end
            forget(nearest[1])
        end
        redis.call('HSET', KEYS[1], digest, value)
        redis.call('ZADD', KEYS[2], now + ttl, digest)
        redis.call('INCRBY', KEYS[3], size)
        local keep = math.max(redis.call('PTTL', KEYS[1]), ttl)
        for i = 1, 3 do redis.call('PEXPIRE', KEYS[i], keep) end
        return 1
        """
}
