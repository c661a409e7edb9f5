import Tenancy

/// Request bodies are read whole before anyone is authenticated (a webhook delivery's up to 25 MiB), so
/// the bytes held for bodies being read are bounded: `total` across the replica
/// (`CP_BODY_BYTES_IN_FLIGHT`) and `perSource` for each source (`CP_BODY_BYTES_IN_FLIGHT_PER_SOURCE`):
/// the endpoint's tenant for deliveries (GitHub sends every tenant's from the same addresses) once the
/// endpoint is known to exist (`KnownEndpoints`), the client address for everything else (made-up
/// endpoint ids included). A body that does not fit is refused with 503 and `Retry-After` before
/// it is read, so one tenant's flood of large bodies holds at most its source's share.
package struct BodyBudget: Sendable {
    /// Bytes held for one request until it has been answered.
    package struct Hold: Sendable {
        fileprivate let held: HeldCounts<String>
        fileprivate let source: String
        fileprivate let bytes: Int

        /// Gives the bytes back; call it exactly once.
        func release() { held.remove(source, amount: bytes) }
    }

    package let total: Int
    package let perSource: Int
    private let held = HeldCounts<String>()

    package init(total: Int, perSource: Int) {
        self.total = total
        self.perSource = perSource
    }

    /// Holds `bytes` for `source`, or nil when that would pass either bound.
    package func take(_ bytes: Int, source: String) -> Hold? {
        guard held.take(source, amount: bytes, limit: perSource, totalLimit: total) else { return nil }
        return Hold(held: held, source: source, bytes: bytes)
    }
}
