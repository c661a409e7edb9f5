import Auth
import Billing
import BlockingWork
import Edge
import Foundation
import Gateway
import Persistence
import Providers
import RedisClient
import Runtime
import Tenancy
import Webhooks

extension APIError {
    /// The one table that turns domain errors of the lower modules into problems; nil for errors that
    /// are not expected outcomes (those are logged and answered as 500).
    init?(domain error: any Error) {
        switch error {
        case let error where DatabaseUnavailable.isConnectionFailure(error):
            self = APIError(
                status: 503, code: .unavailable, title: "Service unavailable",
                detail: "The database cannot be reached right now; try again shortly.",
                retryAfter: (error as? DatabaseUnavailable)?.retryAfterSeconds ?? 2)
        case let error as RedisError where error.isTransient:
            self = APIError(
                status: 503, code: .unavailable, title: "Service unavailable",
                detail: "The queue store cannot be reached right now; try again shortly.", retryAfter: 2)
        case is BlockingWorkPool.Stopped:
            // The server is stopping: its Redis or hashing threads are gone.
            self = APIError(
                status: 503, code: .unavailable, title: "Service unavailable",
                detail: "The server is shutting down; try again shortly.", retryAfter: 1)
        case is InvalidCursor:
            self = .invalid("cursor is not a cursor of this list.")
        case is GitHubSignIn.Unavailable:
            self = .unavailable("GitHub could not be reached; try again.")
        case is PasswordHasher.Busy:
            self = APIError(
                status: 503, code: .unavailable, title: "Service unavailable",
                detail: "Too many sign-ins are being checked right now; try again shortly.", retryAfter: 1)
        case AuthenticationError.tenantSuspended:
            self = .tenantSuspended
        case let error as AboveCap:
            self = .invalid(
                "\(error.field) may be at most \(error.cap), the operator's cap.", at: JSONPointer.to([error.field]))
        case let error as BudgetExhausted:
            self = .budgetExhausted(error)
        case let error as PolicyInvalid:
            // A reason about a member starts with its name, written as the document writes it.
            self =
                error.location.isEmpty
                ? .invalid(Self.sentence(error.reason))
                : .invalid(error.reason + ".", at: JSONPointer.to(error.location))
        case let error as AddressRefused:
            self = .invalid(Self.sentence(error.reason))
        case let error as GatewayError:
            self = .gateway(error)
        case let error as IngestRefusal:
            self = .ingest(error)
        case let error as ReplayRefusal:
            self = .replay(error)
        case let error as IdentityConflict:
            self = .conflict(
                "The git email '\(error.address.prefix(254))' would belong to both \(error.first.prefix(254)) and "
                    + "\(error.second.prefix(254)); a git email maps to one person.")
        case is AuthenticationError:
            self = .unauthenticated("The bearer token is invalid, expired or revoked.")
        case let refusal as SignupRefusal:
            switch refusal {
            case .slugTaken: self = .conflict("This slug is taken.")
            case .emailRegistered: self = .conflict("This email is already registered.")
            case .exists: self = .conflict("This organisation already exists.")
            }
        case let refusal as Refusal:
            switch refusal {
            case .forbidden(let detail): self = .forbidden(detail)
            case .conflict(let detail): self = .conflict(detail)
            case .invalid(let detail): self = .invalid(detail)
            case .notFound(let what): self = .notFound(what)
            case .unauthenticated(let detail): self = .unauthenticated(detail)
            case .limited(let retryAfter, let detail): self = .rateLimited(retryAfter: retryAfter, detail: detail)
            }
        default:
            return nil
        }
    }

    /// A domain reason (`"address is not public"`) as the problem's detail: a sentence.
    private static func sentence(_ reason: String) -> String {
        reason.prefix(1).uppercased() + reason.dropFirst() + "."
    }
}

extension APIError {
    /// 429 `budget_exhausted`: names the period, its limit and use, and when it resets (`Retry-After`).
    static func budgetExhausted(_ error: BudgetExhausted, now: Date = Date()) -> APIError {
        let resetsAt = error.resetsAt.formatted(.iso8601)
        var problem = APIError(
            status: 429, code: .budgetExhausted, title: "Token budget exhausted",
            detail:
                "The \(error.period.rawValue) token budget of \(error.tokenLimit) tokens cannot fit this call: "
                + "\(error.used) used and \(error.reserved) held for calls in flight. It resets at \(resetsAt).",
            retryAfter: error.resetsAt.timeIntervalSince(now).roundedUp(atLeast: 1, atMost: 2_147_483_647))
        problem.extensions = [
            "period": .string(error.period.rawValue), "token_limit": .integer(error.tokenLimit),
            "used": .integer(error.used), "reserved": .integer(error.reserved), "resets_at": .string(resetsAt),
        ]
        return problem
    }
}

extension APIError {
    /// The gateway's failures: a model outside the policy is 404, the hourly cap 429, a provider that
    /// refused the request itself 400, and providers that could not answer 503.
    static func gateway(_ error: GatewayError) -> APIError {
        switch error {
        case .modelNotAllowed(let model):
            return APIError(
                status: 404, code: .notFound, title: "Not found",
                detail:
                    "The model '\(model.prefix(100))' is not allowed by this tenant's policy; GET /v1/llm/models lists those that are."
            )
        case .hourlyLimit(let limit, let retryAfter):
            return .rateLimited(
                retryAfter: retryAfter,
                detail: "The policy's max_llm_requests_per_hour (\(limit)) was reached; retry in \(retryAfter) s.")
        case .providerRejected(let failure) where failure.kind == .badRequest || failure.kind == .requestTooLarge:
            return .invalid("\(failure.provider.rawValue) refused the request: \(failure.message)")
        case .providerRejected(let failure), .providersFailed(let failure):
            var problem = APIError.unavailable(
                "No provider of the policy answered; the last one said: \(failure.provider.rawValue) \(failure.kind.rawValue)"
                    + (failure.status.map { " (HTTP \($0))" } ?? "") + ".")
            let wait = failure.retryAfter.map { Int(clamping: max(1, $0.components.seconds)) } ?? 1
            problem.retryAfter = min(wait, 3600)
            return problem
        }
    }
}

extension APIError {
}

extension APIError {
    /// Why a delivery was not replayed.
    static func replay(_ refusal: ReplayRefusal) -> APIError {
        switch refusal {
        case .notFound: return .notFound("delivery")
        case .endpointDeleted:
            return .conflict("The delivery's webhook endpoint was deleted; nothing says which pipelines to run.")
        case .jobsOpen:
            return .conflict("Jobs made from this delivery are still queued or running; replay it once they end.")
        case .makesNoJobs(let reason):
            return .conflict("As its endpoint is configured now, the delivery makes no jobs: \(reason)")
        }
    }
}
