import Tenancy

/// A refusal a client could have avoided by waiting (429, and a body refused for want of its source's
/// share of the bytes being read) is answered after a pause, so a client that
/// retries at once, ignoring `Retry-After`, sends at the server's pace rather than its own: a flood of
/// refused requests from clients that wait for their answers costs the replica one answer per client and
/// pause, not as many as the clients can send. The pause is the shorter of `Retry-After` and `delay`, so
/// a client that obeys `Retry-After` waits no longer than it would have, times a random factor from one
/// half to one: refusals that came together (a tenant's clients at its rate limit) would otherwise all
/// come back at the same instant, every pause, a burst that other tenants' requests wait behind. At most
/// `holdsPerSource` answers of one source (the tenant of an authenticated request, else the client
/// address) and `holds` in all are paused at once; past either a refusal is answered at once, so pausing
/// never costs more than the bounded pauses themselves (a task and a timer each, no thread).
package struct RefusalPacing: Sendable {
    package let delay: Duration
    package let holdsPerSource: Int
    package let holds: Int
    private let held = HeldCounts<String>()

    package init(delay: Duration, holdsPerSource: Int, holds: Int) {
        self.delay = delay
        self.holdsPerSource = holdsPerSource
        self.holds = holds
    }

    /// Waits before an answer of `status` with `retryAfter` goes to `source`, when it is a refusal to pace
    /// and the source has room. `source` is worked out only for a refusal.
    package func pause(status: Int, retryAfter: String?, source: @autoclosure () -> String) async {
        guard delay > .zero, status == 429 else { return }
        await pause(retryAfterSeconds: retryAfter.flatMap { Int($0) } ?? 1, source: source())
    }

    /// Waits before a refusal that tells `source` to retry after `retryAfterSeconds` goes, when the source
    /// has room.
    package func pause(retryAfterSeconds: Int, source: String) async {
        let pause = min(delay, .seconds(max(0, retryAfterSeconds))) * Double.random(in: 0.5...1)
        guard pause > .zero, held.take(source, amount: 1, limit: holdsPerSource, totalLimit: holds) else { return }
        defer { held.remove(source, amount: 1) }
        try? await Task.sleep(for: pause)
    }
}
