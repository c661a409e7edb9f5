import Foundation

/// The 16 bytes of a UUID, as the opaque tokens (`cpinv_`, `cprt_`) carry them.
extension UUID {
    var bytes: [UInt8] { withUnsafeBytes(of: uuid) { Array($0) } }

    /// The UUID in `data`'s 16 bytes from `offset` (counted from `data`'s start); the caller checked the length.
    init(bytes data: Data, at offset: Int) {
        var value: uuid_t = (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
        withUnsafeMutableBytes(of: &value) { target in
            for index in 0..<16 { target[index] = data[data.startIndex + offset + index] }
        }
        self.init(uuid: value)
    }
}
