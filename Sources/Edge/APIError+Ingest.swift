import Webhooks

extension APIError {
    /// Webhook ingest's refusals. Every reason not to trust a delivery is the same 401, so an answer never
    /// tells whether an endpoint exists, is active, or belongs to a suspended tenant.
    package static func ingest(_ refusal: IngestRefusal) -> APIError {
        switch refusal {
        case .signature:
            return APIError(
                status: 401, code: .signatureInvalid, title: "Signature invalid",
                detail: "X-Hub-Signature-256 does not verify this body for this endpoint.")
        case .malformed(let reason):
            return .invalid(reason)
        case .queueFull(let depth):
            return .rateLimited(
                retryAfter: 60,
                detail: "This tenant's queue holds \(depth) jobs, its limit; deliver again once it has drained.")
        }
    }
}
