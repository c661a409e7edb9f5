import CArgon2
import Foundation
import NIOPosix

/// argon2id password hashing in PHC string form, run on a thread pool so no event loop ever blocks.
/// Defaults follow OWASP's recommendation (19 MiB, 2 iterations, 1 lane).
public struct PasswordHasher: Sendable {
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

    let parameters: Parameters
    let threadPool: NIOThreadPool

    public init(parameters: Parameters = Parameters(), threadPool: NIOThreadPool = .singleton) {
        self.parameters = parameters
        self.threadPool = threadPool
    }

    /// The PHC-encoded argon2id hash of `password` with a fresh 16-byte salt.
    public func hash(_ password: String) async throws -> String {
        let parameters = self.parameters
        return try await threadPool.runIfActive {
            try Self.hashBlocking(password, parameters: parameters)
        }
    }

    /// Whether `password` matches `encoded` (argon2's own constant-time comparison).
    public func verify(_ password: String, encoded: String) async throws -> Bool {
        try await threadPool.runIfActive {
            let bytes = Array(password.utf8)
            return argon2id_verify(encoded, bytes, bytes.count) == ARGON2_OK.rawValue
        }
    }

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
