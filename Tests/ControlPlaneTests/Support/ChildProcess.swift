import BlockingWork
import Foundation
import Synchronization

#if canImport(Glibc)
    import Glibc
#endif

/// Runs programs for tests without blocking a thread of the cooperative executor: the program is
/// started with `posix_spawn` and reaped with `waitpid` on a thread of its own, which resumes the
/// caller. Foundation's `Process` is not used for this: on Linux it learns of an exit from the end of a
/// socket the child inherits, so a child that leaves a daemon behind (`pg_ctl start`, `restart`) never
/// "ends", and `waitUntilExit` blocks the calling thread besides.
enum ChildProcess {
    struct SpawnFailed: Error { let code: Int32 }

    /// Runs `arguments` (the first one the program, looked up on `PATH`) with standard input, output
    /// and error on `/dev/null` (or output and error appended to `output`) and returns its exit status.
    @discardableResult
    static func run(_ arguments: [String], output: String = "/dev/null") async throws -> Int32 {
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, output, O_WRONLY | O_CREAT | O_APPEND, 0o644)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        // Nothing else of the test process is inherited. NIO opens its sockets without close-on-exec, so
        // a daemon the program leaves behind (`pg_ctl start`, `restart`) would otherwise hold the
        // servers' and clients' connections of running tests open for the rest of the run: a server
        // would never see its client leave.
        guard Self.closeFrom(&actions, 3) == 0 else { throw SpawnFailed(code: errno) }
        let argv = arguments.map { strdup($0) } + [nil]
        defer { for argument in argv { free(argument) } }
        var pid: pid_t = 0
        let spawned = posix_spawnp(&pid, arguments[0], &actions, nil, argv, environ)
        guard spawned == 0 else { throw SpawnFailed(code: spawned) }
        return await exit(of: pid)
    }

    /// glibc's `posix_spawn_file_actions_addclosefrom_np` (2.34 and later), which Swift's `Glibc` module
    /// does not declare.
    private static let closeFrom: @convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32 = {
        guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "posix_spawn_file_actions_addclosefrom_np")
        else { fatalError("glibc 2.34 or later is needed: posix_spawn_file_actions_addclosefrom_np is missing") }
        return unsafeBitCast(
            symbol, to: (@convention(c) (UnsafeMutablePointer<posix_spawn_file_actions_t>, Int32) -> Int32).self)
    }()

    /// Waits, on a thread of its own, for child `pid` to end; its exit status (128 + signal if killed).
    static func exit(of pid: pid_t) async -> Int32 {
        await withCheckedContinuation { (continuation: CheckedContinuation<Int32, Never>) in
            let reaper = Thread {
                var status: Int32 = 0
                while waitpid(pid, &status, 0) == -1, errno == EINTR {}
                let signal = status & 0x7f
                continuation.resume(returning: signal == 0 ? (status >> 8) & 0xff : 128 + signal)
            }
            reaper.start()
        }
    }

    /// Waits for a child started with Foundation's `Process` (which reaps it) to end, polling rather than
    /// blocking a thread as `waitUntilExit` does.
    static func exit(of process: Process) async {
        while process.isRunning { try? await Pause.for(.milliseconds(20)) }
    }
}
