import CHiredis

/// One blocking hiredis connection. It owns a C handle, so it is a class; it is only ever used by one
/// thread at a time, handed out by `RedisClient`'s pool, which is why it may cross threads.
final class RedisConnection: @unchecked Sendable {
    private let context: UnsafeMutablePointer<redisContext>

    init(host: String, port: Int, timeout: Duration) throws {
        let timeout = Self.makeTimeval(timeout)
        guard let context = redisConnectWithTimeout(host, Int32(port), timeout) else {
            throw RedisError.connectionFailed("out of memory")
        }
        if context.pointee.err != 0 {
            let message = Self.errorText(context)
            redisFree(context)
            throw RedisError.connectionFailed(message)
        }
        redisSetTimeout(context, timeout)
        self.context = context
    }

    deinit { redisFree(context) }

    /// Sets how long the next calls may block on reading or writing.
    func setTimeout(_ timeout: Duration) throws {
        guard redisSetTimeout(context, Self.makeTimeval(timeout)) == REDIS_OK else {
            throw RedisError.io(Self.errorText(context))
        }
    }

    private static func makeTimeval(_ duration: Duration) -> timeval {
        // Clamped to 1 ms ... 1 day before any arithmetic, so no duration can overflow it.
        let seconds = min(max(duration.components.seconds, 0), 86_400)
        let microseconds = seconds == 86_400 ? 0 : max(duration.components.attoseconds, 0) / 1_000_000_000_000
        let total = max(seconds * 1_000_000 + microseconds, 1000)
        return timeval(tv_sec: Int(total / 1_000_000), tv_usec: Int(total % 1_000_000))
    }

    /// Whether the connection failed and must be discarded.
    var isBroken: Bool { context.pointee.err != 0 }

    /// Sends one command and waits for its reply (blocking).
    func send(_ arguments: [[UInt8]]) throws -> RedisReply {
        try pipeline([arguments])[0]
    }

    /// Sends several commands in one write and reads their replies in order (blocking).
    func pipeline(_ commands: [[[UInt8]]]) throws -> [RedisReply] {
        guard commands.allSatisfy({ !$0.isEmpty && $0.count < Int(Int32.max) }) else {
            throw RedisError.io("a command needs a name and fewer than 2^31 arguments")
        }
        for arguments in commands {
            let status = Self.withArgv(arguments) { argc, argv, lengths in
                redisAppendCommandArgv(context, argc, argv, lengths)
            }
            guard status == REDIS_OK else { throw RedisError.io(Self.errorText(context)) }
        }
        var replies: [RedisReply] = []
        for _ in commands {
            var raw: UnsafeMutableRawPointer?
            guard redisGetReply(context, &raw) == REDIS_OK, let raw else {
                throw RedisError.io(Self.errorText(context))
            }
            let reply = raw.assumingMemoryBound(to: redisReply.self)
            replies.append(Self.decode(reply))
            freeReplyObject(raw)
        }
        return replies
    }

    /// Calls `body` with C views of `arguments`; nil only if Swift handed out no storage, which it does
    /// not for the non-empty arrays built here.
    private static func withArgv<R>(
        _ arguments: [[UInt8]], _ body: (Int32, UnsafeMutablePointer<UnsafePointer<CChar>?>, UnsafePointer<Int>) -> R
    ) -> R? {
        let buffers = arguments.map { bytes -> UnsafeMutablePointer<CChar> in
            let buffer = UnsafeMutablePointer<CChar>.allocate(capacity: max(bytes.count, 1))
            // An empty argument has no bytes to copy (and its buffer no base address).
            bytes.withUnsafeBufferPointer { source in
                guard let base = source.baseAddress, !source.isEmpty else { return }
                base.withMemoryRebound(to: CChar.self, capacity: source.count) {
                    buffer.update(from: $0, count: source.count)
                }
            }
            return buffer
        }
        defer { for buffer in buffers { buffer.deallocate() } }
        // Never empty: `pipeline` refuses a command without arguments before it gets here.
        var argv = buffers.map { UnsafePointer<CChar>?(UnsafePointer($0)) } + [nil]
        let lengths = arguments.map(\.count) + [0]
        return argv.withUnsafeMutableBufferPointer { argvBuffer in
            lengths.withUnsafeBufferPointer { lengthBuffer in
                guard let argvBase = argvBuffer.baseAddress, let lengthBase = lengthBuffer.baseAddress else {
                    return nil
                }
                return body(Int32(arguments.count), argvBase, lengthBase)
            }
        }
    }

    private static func decode(_ reply: UnsafeMutablePointer<redisReply>) -> RedisReply {
        let value = reply.pointee
        func bytes() -> [UInt8] {
            guard let pointer = value.str else { return [] }
            return pointer.withMemoryRebound(to: UInt8.self, capacity: Int(value.len)) {
                Array(UnsafeBufferPointer(start: $0, count: Int(value.len)))
            }
        }
        switch value.type {
        case REDIS_REPLY_STATUS: return .status(String(decoding: bytes(), as: UTF8.self))
        case REDIS_REPLY_ERROR: return .error(String(decoding: bytes(), as: UTF8.self))
        case REDIS_REPLY_INTEGER: return .integer(Int(value.integer))
        case REDIS_REPLY_STRING: return .bulk(bytes())
        case REDIS_REPLY_ARRAY:
            var elements: [RedisReply] = []
            for index in 0..<Int(value.elements) {
                if let element = value.element[index] { elements.append(decode(element)) }
            }
            return .array(elements)
        default: return .null
        }
    }

    private static func errorText(_ context: UnsafeMutablePointer<redisContext>) -> String {
        withUnsafeBytes(of: context.pointee.errstr) { raw in
            String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self)
        }
    }
}
