import NIOCore

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Finds a short byte string in a request body with `memchr` and `memcmp`: the edge looks for `null`
/// and `\u0000` in every JSON body (up to the bulk limit, 8 MiB), and a generic collection search took
/// seconds for that in a debug build.
package enum ByteSearch {
    package static func contains(_ needle: String, in buffer: ByteBuffer) -> Bool {
        let pattern = Array(needle.utf8)
        guard let first = pattern.first else { return true }
        return buffer.withUnsafeReadableBytes { haystack -> Bool in
            guard let base = haystack.baseAddress, haystack.count >= pattern.count else { return false }
            var offset = 0
            let last = haystack.count - pattern.count
            while offset <= last {
                guard let found = memchr(base + offset, Int32(first), last - offset + 1) else { return false }
                let position = base.distance(to: UnsafeRawPointer(found))
                let matches = pattern.withUnsafeBytes { memcmp(base + position, $0.baseAddress!, pattern.count) == 0 }
                if matches { return true }
                offset = position + 1
            }
            return false
        }
    }
}
