import Foundation
import NIOCore

/// Finds `null` in a JSON request body. The API takes no `null` anywhere (a client leaves a field out
/// instead), while the generated decoders would read `null` as "absent": this keeps the server exactly
/// as strict as `openapi.yaml` says. Bodies that are not JSON are left to the decoders to refuse.
package enum JSONNulls {
    /// The path of the first `null` (e.g. `grace_seconds`, `items[2].name`), or nil when there is none.
    package static func firstNull(in buffer: ByteBuffer) -> String? {
        // Most bodies hold no `null` at all: look for the literal before parsing anything.
        guard ByteSearch.contains("null", in: buffer),
            let value = try? JSONSerialization.jsonObject(
                with: Data(buffer: buffer), options: [.fragmentsAllowed])
        else { return nil }
        return JSONPaths.first(in: value, where: { $0 is NSNull })
    }
}
