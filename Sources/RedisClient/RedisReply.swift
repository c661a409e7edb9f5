/// A decoded RESP2 reply.
public enum RedisReply: Sendable, Equatable {
    case status(String)
    case error(String)
    case integer(Int)
    case bulk([UInt8])
    case array([RedisReply])
    case null

    /// The reply as text, for status and bulk replies.
    public var string: String? {
        switch self {
        case .status(let text): text
        case .bulk(let bytes): String(decoding: bytes, as: UTF8.self)
        default: nil
        }
    }
}

/// A failed Redis call.
public enum RedisError: Error, Sendable, Equatable {
    case invalidURL(String)
    case connectionFailed(String)
    case io(String)
    case server(String)

    /// Whether Redis (or the way to it) is away for now rather than the command being wrong: worth a 503
    /// and a retry.
    public var isTransient: Bool {
        switch self {
        case .connectionFailed, .io: true
        case .server(let message):
            ["LOADING", "OOM", "MASTERDOWN", "CLUSTERDOWN", "TRYAGAIN", "BUSY"].contains {
                message.hasPrefix($0 + " ") || message == $0
            }
        case .invalidURL: false
        }
    }
}
