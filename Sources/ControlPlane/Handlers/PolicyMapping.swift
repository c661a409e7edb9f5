import ControlPlaneAPI
import ControlPlaneAPITypes
import Foundation
import Gateway
import Providers

/// Conversions between the policy and the generated API types.
extension LLMPolicy {
    init(_ body: Components.Schemas.Policy) {
        self.init(
            routes: Self.routes(body.routes),
            onBudgetPressure: body.onBudgetPressure.map {
                BudgetPressure(thresholdPercent: $0.thresholdPercent, routes: Self.routes($0.routes))
            },
            maxTokensPerRequest: body.maxTokensPerRequest, maxLLMRequestsPerHour: body.maxLlmRequestsPerHour,
            cache: Cache(enabled: body.cache.enabled, ttlSeconds: body.cache.ttlSeconds),
            repositoryOverrides: body.repositoryOverrides.map {
                $0.map { RepositoryOverride(repository: $0.repository, routes: Self.routes($0.routes)) }
            },
            nearDuplicates: body.nearDuplicates.map {
                NearDuplicates(enabled: $0.enabled, maxDistance: $0.maxDistance ?? 3)
            })
    }

    static func routes(_ routes: Components.Schemas.PolicyRoutes) -> [String: [Candidate]] {
        let pairs: [(TaskKind, [Components.Schemas.PolicyCandidate]?)] = [
            (.chat, routes.chat), (.commitments, routes.commitments), (.securityReview, routes.securityReview),
            (.changeSummary, routes.changeSummary), (.intervention, routes.intervention), (.default, routes._default),
        ]
        var mapped: [String: [Candidate]] = [:]
        for (kind, list) in pairs {
            guard let list else { continue }
            mapped[kind.rawValue] = list.map {
                Candidate(
                    provider: ProviderKind(rawValue: $0.provider.rawValue) ?? .mock, model: $0.model,
                    maxTokens: $0.maxTokens, timeoutMs: $0.timeoutMs)
            }
        }
        return mapped
    }
}

extension Components.Schemas.PolicyRoutes {
    init(_ routes: [String: [LLMPolicy.Candidate]]) {
        func list(_ kind: TaskKind) -> [Components.Schemas.PolicyCandidate]? {
            routes[kind.rawValue].map {
                $0.map {
                    .init(
                        provider: .init(rawValue: $0.provider.rawValue) ?? .mock, model: $0.model,
                        maxTokens: $0.maxTokens,
                        timeoutMs: $0.timeoutMs)
                }
            }
        }
        self.init(
            chat: list(.chat), commitments: list(.commitments), securityReview: list(.securityReview),
            changeSummary: list(.changeSummary), intervention: list(.intervention), _default: list(.default))
    }
}

extension Components.Schemas.PolicyVersion {
    init(_ version: PolicyRepository.Version) {
        let policy = version.policy
        self.init(
            version: version.version, createdAt: version.createdAt, createdBy: version.createdBy,
            policy: .init(
                routes: .init(policy.routes),
                onBudgetPressure: policy.onBudgetPressure.map {
                    .init(thresholdPercent: $0.thresholdPercent, routes: .init($0.routes))
                },
                maxTokensPerRequest: policy.maxTokensPerRequest, maxLlmRequestsPerHour: policy.maxLLMRequestsPerHour,
                cache: .init(enabled: policy.cache.enabled, ttlSeconds: policy.cache.ttlSeconds),
                repositoryOverrides: policy.repositoryOverrides.map {
                    $0.map { .init(repository: $0.repository, routes: .init($0.routes)) }
                },
                nearDuplicates: policy.nearDuplicates.map { .init(enabled: $0.enabled, maxDistance: $0.maxDistance) }))
    }
}
