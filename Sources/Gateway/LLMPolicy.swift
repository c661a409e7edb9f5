import Foundation
import Providers

/// The kinds of LLM work a policy routes.
public enum TaskKind: String, Sendable, CaseIterable, Codable {
    case chat
    case commitments
    case securityReview = "security_review"
    case changeSummary = "change_summary"
    /// The messages of interventions about overdue commitments.
    case intervention
    /// Used for a kind that has no route of its own.
    case `default`
}

/// A tenant's LLM routing policy (SPEC): ordered candidates per task kind (fallback in order on 429,
/// 5xx and timeout), cheaper candidates under budget pressure, per-request and per-hour caps, and an
/// exact-match response cache.
public struct LLMPolicy: Sendable, Equatable, Codable {
    public struct Candidate: Sendable, Equatable, Codable {
        public var provider: ProviderKind
        public var model: String
        public var maxTokens: Int
        public var timeoutMs: Int

        public init(provider: ProviderKind, model: String, maxTokens: Int, timeoutMs: Int) {
            self.provider = provider
            self.model = model
            self.maxTokens = maxTokens
            self.timeoutMs = timeoutMs
        }

        /// `provider/model`, the id the gateway lists and accepts.
        public var id: String { "\(provider.rawValue)/\(model)" }

        enum CodingKeys: String, CodingKey {
            case provider, model
            case maxTokens = "max_tokens"
            case timeoutMs = "timeout_ms"
        }
    }

    public struct BudgetPressure: Sendable, Equatable, Codable {
        /// From this share of the budget used (or when the budget degrades a call), `routes` apply.
        public var thresholdPercent: Int
        public var routes: [String: [Candidate]]

        public init(thresholdPercent: Int, routes: [String: [Candidate]]) {
            self.thresholdPercent = thresholdPercent
            self.routes = routes
        }

        enum CodingKeys: String, CodingKey {
            case thresholdPercent = "threshold_percent"
            case routes
        }
    }

    public struct Cache: Sendable, Equatable, Codable {
        public var enabled: Bool
        public var ttlSeconds: Int

        public init(enabled: Bool, ttlSeconds: Int) {
            self.enabled = enabled
            self.ttlSeconds = ttlSeconds
        }

        enum CodingKeys: String, CodingKey {
            case enabled
            case ttlSeconds = "ttl_seconds"
        }
    }

    /// Routes for the runtime's jobs on some repositories, before everything else.
    public struct RepositoryOverride: Sendable, Equatable, Codable {
        /// `owner/name`, or `owner/*` for every repository of the owner; compared case-insensitively.
        public var repository: String
        public var routes: [String: [Candidate]]

        public init(repository: String, routes: [String: [Candidate]]) {
            self.repository = repository
            self.routes = routes
        }

        /// Whether the override is for `repository` (`owner/name`).
        public func matches(_ repository: String) -> Bool {
            let pattern = self.repository.lowercased()
            let name = repository.lowercased()
            if pattern.hasSuffix("/*") { return name.hasPrefix(pattern.dropLast()) }
            return pattern == name
        }
    }

    /// Whether a commit message close to one the tenant committed before (SimHash within `maxDistance`
    /// bits) reuses that earlier result at no cost, as an identical message always does.
    public struct NearDuplicates: Sendable, Equatable, Codable {
        public var enabled: Bool
        public var maxDistance: Int

        public init(enabled: Bool, maxDistance: Int = 3) {
            self.enabled = enabled
            self.maxDistance = maxDistance
        }

        enum CodingKeys: String, CodingKey {
            case enabled
            case maxDistance = "max_distance"
        }
    }

    public var routes: [String: [Candidate]]
    public var onBudgetPressure: BudgetPressure?
    public var maxTokensPerRequest: Int
    public var maxLLMRequestsPerHour: Int
    public var cache: Cache
    /// The first match wins; nil or empty: none.
    public var repositoryOverrides: [RepositoryOverride]?
    /// Off when nil.
    public var nearDuplicates: NearDuplicates?

    public init(
        routes: [String: [Candidate]], onBudgetPressure: BudgetPressure?, maxTokensPerRequest: Int,
        maxLLMRequestsPerHour: Int, cache: Cache, repositoryOverrides: [RepositoryOverride]? = nil,
        nearDuplicates: NearDuplicates? = nil
    ) {
        self.routes = routes
        self.onBudgetPressure = onBudgetPressure
        self.maxTokensPerRequest = maxTokensPerRequest
        self.maxLLMRequestsPerHour = maxLLMRequestsPerHour
        self.cache = cache
        self.repositoryOverrides = repositoryOverrides
        self.nearDuplicates = nearDuplicates
    }

    /// The SimHash distance within which a commit message reuses an earlier result; nil when off.
    public var nearDuplicateDistance: Int? {
        guard let nearDuplicates, nearDuplicates.enabled else { return nil }
        return nearDuplicates.maxDistance
    }

    enum CodingKeys: String, CodingKey {
        case routes
        case onBudgetPressure = "on_budget_pressure"
        case maxTokensPerRequest = "max_tokens_per_request"
        case maxLLMRequestsPerHour = "max_llm_requests_per_hour"
        case cache
        case repositoryOverrides = "repository_overrides"
        case nearDuplicates = "near_duplicates"
    }

    /// The policy of a tenant that never set one: everything on `mock`, offline and free of keys.
    public static let standard = LLMPolicy(
        routes: ["default": [Candidate(provider: .mock, model: "mock-1", maxTokens: 1024, timeoutMs: 30_000)]],
        onBudgetPressure: nil, maxTokensPerRequest: 4096, maxLLMRequestsPerHour: 1000,
        cache: Cache(enabled: false, ttlSeconds: 3600))

    /// The candidates for `kind`, in order: for a job on `repository`, the first matching override's route
    /// for the kind (or its `default`); else the pressure routes when under pressure and they name the
    /// kind (or `default`), else the kind's own route, else `default`.
    public func candidates(for kind: TaskKind, underPressure: Bool, repository: String? = nil) -> [Candidate] {
        if let repository, let override = repositoryOverrides?.first(where: { $0.matches(repository) }),
            let routes = override.routes[kind.rawValue] ?? override.routes[TaskKind.default.rawValue], !routes.isEmpty
        {
            return routes
        }
        if underPressure, let pressure = onBudgetPressure,
            let routes = pressure.routes[kind.rawValue] ?? pressure.routes[TaskKind.default.rawValue], !routes.isEmpty
        {
            return routes
        }
        return routes[kind.rawValue] ?? routes[TaskKind.default.rawValue] ?? []
    }

    /// Every candidate the policy names, once, in the order they first appear.
    public var allCandidates: [Candidate] {
        var seen = Set<String>()
        var all: [Candidate] = []
        let ordered =
            TaskKind.allCases.flatMap { routes[$0.rawValue] ?? [] }
            + TaskKind.allCases.flatMap { onBudgetPressure?.routes[$0.rawValue] ?? [] }
            + (repositoryOverrides ?? []).flatMap { override in
                TaskKind.allCases.flatMap { override.routes[$0.rawValue] ?? [] }
            }
        for candidate in ordered where seen.insert(candidate.id).inserted { all.append(candidate) }
        return all
    }

    /// Checks everything a JSON Schema cannot: route keys are task kinds, `default` exists, limits are
    /// within range, and no candidate asks for more than `max_tokens_per_request`. A failure names the
    /// member of the document it is about (`PolicyInvalid.location`).
    public func validate() throws {
        func fail(_ reason: String, at location: [String]) -> PolicyInvalid {
            PolicyInvalid(reason: reason, location: location)
        }
        guard (1...1_000_000).contains(maxTokensPerRequest) else {
            throw fail("max_tokens_per_request must be between 1 and 1000000", at: ["max_tokens_per_request"])
        }
        guard (1...10_000_000).contains(maxLLMRequestsPerHour) else {
            throw fail("max_llm_requests_per_hour must be between 1 and 10000000", at: ["max_llm_requests_per_hour"])
        }
        guard (1...604_800).contains(cache.ttlSeconds) else {
            throw fail("cache.ttl_seconds must be between 1 and 604800", at: ["cache", "ttl_seconds"])
        }
        guard let fallback = routes[TaskKind.default.rawValue], !fallback.isEmpty else {
            throw fail("routes.default must name at least one candidate", at: ["routes"])
        }
        // Every route of the document: its name for people, where it is, and its candidates.
        var all: [(name: String, location: [String], list: [Candidate])] = []
        for (kind, list) in routes {
            guard TaskKind(rawValue: kind) != nil else {
                throw fail(
                    "routes.\(kind) is not a task kind (chat, commitments, security_review, change_summary, "
                        + "intervention, default)", at: ["routes", kind])
            }
            all.append(("routes.\(kind)", ["routes", kind], list))
        }
        if let pressure = onBudgetPressure {
            guard (1...100).contains(pressure.thresholdPercent) else {
                throw fail(
                    "on_budget_pressure.threshold_percent must be between 1 and 100",
                    at: ["on_budget_pressure", "threshold_percent"])
            }
            for (kind, list) in pressure.routes {
                let location = ["on_budget_pressure", "routes", kind]
                guard TaskKind(rawValue: kind) != nil else {
                    throw fail("on_budget_pressure.routes.\(kind) is not a task kind", at: location)
                }
                all.append(("on_budget_pressure.\(kind)", location, list))
            }
        }
        if let nearDuplicates, !(1...16).contains(nearDuplicates.maxDistance) {
            throw fail(
                "near_duplicates.max_distance must be between 1 and 16", at: ["near_duplicates", "max_distance"])
        }
        let overrides = repositoryOverrides ?? []
        guard overrides.count <= 100 else {
            throw fail("repository_overrides may list at most 100 repositories", at: ["repository_overrides"])
        }
        for (index, override) in overrides.enumerated() {
            let name = "repository_overrides[\(index)]"
            let location = ["repository_overrides", String(index)]
            let parts = override.repository.split(separator: "/", omittingEmptySubsequences: false)
            let plain = override.repository.unicodeScalars.allSatisfy {
                ("a"..."z").contains($0) || ("A"..."Z").contains($0) || ("0"..."9").contains($0)
                    || "_.-/*".unicodeScalars.contains($0)
            }
            guard plain, (3...140).contains(override.repository.utf8.count), parts.count == 2, !parts[0].isEmpty,
                !parts[0].contains("*"), !parts[1].isEmpty, parts[1] == "*" || !parts[1].contains("*")
            else { throw fail("\(name).repository must be owner/name or owner/*", at: location + ["repository"]) }
            guard !override.routes.isEmpty else {
                throw fail("\(name).routes must name at least one task kind", at: location + ["routes"])
            }
            for (kind, list) in override.routes {
                guard TaskKind(rawValue: kind) != nil else {
                    throw fail("\(name).routes.\(kind) is not a task kind", at: location + ["routes", kind])
                }
                all.append(("\(name).\(kind)", location + ["routes", kind], list))
            }
        }
        for (name, location, list) in all {
            guard (1...10).contains(list.count) else {
                throw fail("\(name) must list 1 to 10 candidates", at: location)
            }
            for (index, candidate) in list.enumerated() {
                let at = location + [String(index)]
                guard (1...200).contains(candidate.model.utf8.count),
                    candidate.model.unicodeScalars.allSatisfy({ $0.value > 0x20 && $0.value < 0x7F })
                else { throw fail("\(name): model must be 1 to 200 visible ASCII characters", at: at + ["model"]) }
                guard (1...maxTokensPerRequest).contains(candidate.maxTokens) else {
                    throw fail(
                        "\(name): max_tokens must be between 1 and max_tokens_per_request", at: at + ["max_tokens"])
                }
                guard (100...600_000).contains(candidate.timeoutMs) else {
                    throw fail("\(name): timeout_ms must be between 100 and 600000", at: at + ["timeout_ms"])
                }
            }
        }
    }
}

/// A policy that cannot be used, with the reason and the member of the document it is about: the keys
/// and array indices from the document's root (empty: the document as a whole).
public struct PolicyInvalid: Error, Sendable, Equatable {
    public let reason: String
    public let location: [String]

    public init(reason: String, location: [String] = []) {
        self.reason = reason
        self.location = location
    }
}
