import BlockingWork
import CArgon2
import Foundation
import NIOCore
import NIOPosix
import ServiceLifecycle
import Synchronization

/// argon2id password hashing in PHC string form on a thread pool of its own, never on an event loop
/// and never on the threads other blocking calls use. The pool is bounded: when `threads` hashes run
/// and `queueDepth` more wait, a further call fails at once with `Busy` instead of queueing without
/// end, so a login flood costs bounded CPU and memory. Defaults follow OWASP's recommendation (19 MiB,
/// 2 iterations, 1 lane). A `Service`: the pool stops with the application.
public final class PasswordHasher: Service, Sendable {
    public struct Parameters: Sendable {
        public var memoryKiB: UInt32
        public var iterations: UInt32
        public var parallelism: UInt32

        public init(memoryKiB: UInt32 = 19_456, iterations: UInt32 = 2, parallelism: UInt32 = 1) {
            self.memoryKiB = memoryKiB
            self.iterations = iterations
            self.parallelism = parallelism
        }
    }

    public enum HashError: Error { case failed(Int32) }

    /// Every hashing thread is taken and the queue is full; try again in a moment.
    public struct Busy: Error, Sendable {}

    let parameters: Parameters
    private let threadPool: BlockingWorkPool
    private let capacity: Int
    private let inFlight = Atomic<Int>(0)

    public init(parameters: Parameters = Parameters(), threads: Int = 2, queueDepth: Int = 16) {
        self.parameters = parameters
        self.capacity = max(1, threads) + max(0, queueDepth)
        self.threadPool = BlockingWorkPool(threads: threads)
    }

    /// The PHC-encoded argon2id hash of `password` with a fresh 16-byte salt.
    public func hash(_ password: String) async throws -> String {
        let parameters = self.parameters
        return try await bounded { try Self.hashBlocking(password, parameters: parameters) }
    }

    /// Whether `password` matches `encoded` (argon2's own constant-time comparison).
    public func verify(_ password: String, encoded: String) async throws -> Bool {
        try await bounded {
            let bytes = Array(password.utf8)
            return argon2id_verify(encoded, bytes, bytes.count) == ARGON2_OK.rawValue
        }
    }

    private func bounded<Value: Sendable>(_ work: @escaping @Sendable () throws -> Value) async throws -> Value {
        let (taken, _) = inFlight.add(1, ordering: .acquiringAndReleasing)
        defer { inFlight.subtract(1, ordering: .acquiringAndReleasing) }
        guard taken <= capacity else { throw Busy() }
        return try await threadPool.run(work)
    }

    public func run() async throws {
        try? await gracefulShutdown()
        await threadPool.shutdown()
    }

    /// A well-formed argon2id hash with `parameters`, a random salt and a random digest, that no password
    /// matches: verifying against it costs what verifying a real one does (sign-ins for unknown emails
    /// take as long as for known ones), and making it costs nothing, so no hash runs where it is built.
    public static func decoyHash(parameters: Parameters) -> String {
        var generator = SystemRandomNumberGenerator()
        func encoded(_ count: Int) -> String {
            let bytes = (0..<count).map { _ in UInt8.random(in: 0...255, using: &generator) }
            return Data(bytes).base64EncodedString().replacingOccurrences(of: "=", with: "")
        }
        return "$argon2id$v=19$m=\(parameters.memoryKiB),t=\(parameters.iterations),p=\(parameters.parallelism)$"
            + "\(encoded(16))$\(encoded(32))"
    }

    /// Hashes on the calling thread: for the hashing pool's threads and one-shot commands only, never
    /// on the cooperative executor.
    public static func hashBlocking(_ password: String, parameters: Parameters) throws -> String {
        let bytes = Array(password.utf8)
        var salt = [UInt8](repeating: 0, count: 16)
        var generator = SystemRandomNumberGenerator()
        for index in salt.indices { salt[index] = generator.next() }
        let hashLength = 32
        let encodedLength = argon2_encodedlen(
            parameters.iterations, parameters.memoryKiB, parameters.parallelism, UInt32(salt.count),
            UInt32(hashLength), Argon2_id)
        var encoded = [CChar](repeating: 0, count: encodedLength)
        let result = argon2id_hash_encoded(
            parameters.iterations, parameters.memoryKiB, parameters.parallelism, bytes, bytes.count, salt, salt.count,
            hashLength, &encoded, encodedLength)
        guard result == ARGON2_OK.rawValue else { throw HashError.failed(result) }
        return String(decoding: encoded.prefix(while: { $0 != 0 }).map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
