import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// Writes log lines from a thread of its own, so that a reader of standard output that falls behind (a
/// log collector, a full pipe) never blocks the task that logs: `write(2)` to a full pipe would stop a
/// cooperative thread, and with it every task of every tenant. Lines wait in a bounded queue; past
/// `maximumQueuedBytes` they are dropped and counted, and a line saying how many were dropped is written
/// once the reader catches up. Whatever is queued when the process exits is written out first.
package final class LogLineWriter: @unchecked Sendable {
    package static let standardOutput = LogLineWriter(descriptor: STDOUT_FILENO)
    package static let standardError = LogLineWriter(descriptor: STDERR_FILENO)

    private let descriptor: Int32
    private let maximumQueuedBytes: Int
    // Guarded by `condition`.
    private let condition = NSCondition()
    private var queue: [Data] = []
    private var queuedBytes = 0
    private var dropped = 0
    private var started = false

    package init(descriptor: Int32, maximumQueuedBytes: Int = 8 << 20) {
        self.descriptor = descriptor
        self.maximumQueuedBytes = maximumQueuedBytes
    }

    /// Queues `line` (with its newline) without waiting for the reader.
    package func write(_ line: Data) {
        condition.lock()
        defer { condition.unlock() }
        guard queuedBytes + line.count <= maximumQueuedBytes else {
            dropped += 1
            return
        }
        queue.append(line)
        queuedBytes += line.count
        if !started {
            started = true
            Self.registerExitFlush()
            let thread = Thread { [self] in drain() }
            thread.name = "log-writer"
            thread.start()
        }
        condition.signal()
    }

    /// The writer thread: waits for lines and writes them, for the life of the process.
    private func drain() {
        while true {
            let (lines, droppedNow) = take(waiting: true)
            emit(lines, dropped: droppedNow)
        }
    }

    private func take(waiting: Bool) -> ([Data], Int) {
        condition.lock()
        defer { condition.unlock() }
        while waiting, queue.isEmpty, dropped == 0 { condition.wait() }
        defer {
            queue = []
            queuedBytes = 0
            dropped = 0
        }
        return (queue, dropped)
    }

    private func emit(_ lines: [Data], dropped: Int) {
        if dropped > 0 {
            let notice =
                #"{"dropped":\#(dropped),"level":"warning","logger":"controlplane","#
                + #""message":"log lines dropped: the reader of the log fell behind"}"#
            writeAll(Data((notice + "\n").utf8))
        }
        for line in lines { writeAll(line) }
    }

    private func writeAll(_ data: Data) {
        data.withUnsafeBytes { buffer in
            guard var pointer = buffer.baseAddress else { return }
            var remaining = buffer.count
            while remaining > 0 {
                let written = Glibc.write(descriptor, pointer, remaining)
                if written < 0 {
                    if errno == EINTR { continue }
                    return
                }
                pointer += written
                remaining -= written
            }
        }
    }

    /// At exit, what is still queued is written on the exiting thread (blocking is harmless then).
    private static func registerExitFlush() {
        _ = registration
    }

    private static let registration: Void = {
        atexit {
            for writer in [LogLineWriter.standardOutput, LogLineWriter.standardError] {
                let (lines, dropped) = writer.take(waiting: false)
                writer.emit(lines, dropped: dropped)
            }
        }
    }()
}
