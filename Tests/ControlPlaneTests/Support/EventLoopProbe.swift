import Dispatch
import Foundation
import NIOCore
import NIOPosix
import Synchronization

/// Watches, from a thread of its own, how long the process's event loops take to run a task handed to
/// them and how late that thread itself wakes from a short sleep. A test that times a server-side
/// deadline reports both with its failure, so the log says which was slow: the server (both small),
/// the event loops under it (a long turnaround), or the whole process or machine (a long oversleep).
final class EventLoopProbe: Sendable {
    /// The longest turnaround of any event loop and the longest oversleep seen while watching.
    struct Reading: Sendable, CustomStringConvertible {
        var loopTurnaround: Duration = .zero
        var oversleep: Duration = .zero

        var description: String {
            "longest event-loop turnaround \(loopTurnaround), longest oversleep of a 50 ms sleep \(oversleep)"
        }
    }

    private let reading = Mutex(Reading())
    private let stopped = Atomic<Bool>(false)

    /// Runs `body` while a thread probes `group`'s loops every 50 ms; answers `body`'s value and what
    /// the probe saw.
    static func watching<Value: Sendable>(
        _ group: MultiThreadedEventLoopGroup = .singleton, _ body: () async throws -> Value
    ) async throws -> (Value, Reading) {
        let probe = EventLoopProbe()
        let loops = Array(group.makeIterator())
        Thread { probe.watch(loops) }.start()
        defer { probe.stopped.store(true, ordering: .relaxed) }
        let value = try await body()
        return (value, probe.reading.withLock { $0 })
    }

    private func watch(_ loops: [any EventLoop]) {
        while !stopped.load(ordering: .relaxed) {
            let asked = ContinuousClock.now
            Thread.sleep(forTimeInterval: 0.05)
            let oversleep = ContinuousClock.now - asked - .milliseconds(50)
            for loop in loops {
                let ran = DispatchSemaphore(value: 0)
                let handed = ContinuousClock.now
                loop.execute { ran.signal() }
                _ = ran.wait(timeout: .now() + 30)
                let turnaround = ContinuousClock.now - handed
                reading.withLock {
                    $0.loopTurnaround = max($0.loopTurnaround, turnaround)
                    $0.oversleep = max($0.oversleep, oversleep)
                }
            }
        }
    }
}
