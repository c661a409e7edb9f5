import Foundation
import NIOCore

/// Finds NUL characters (U+0000) in what a request carries. No field of the API takes one, and Postgres
/// text cannot hold one: a NUL that reached a query would fail it (a 500) instead of the client's request
/// (a 400). Webhook deliveries are kept byte for byte and are not checked here.
package enum NulCharacters {
    /// Whether the request target holds a percent-encoded NUL (`%00`) in its path or query.
    package static func inTarget(_ target: String) -> Bool {
        target.utf8.firstRange(of: "%00".utf8) != nil
    }

    /// The path of the first JSON string or key holding U+0000 (e.g. `name`, `items[2].email`), or nil.
    package static func firstField(in buffer: ByteBuffer) -> String? {
        // JSON spells U+0000 only as the escape `\u0000`: look for it before parsing anything.
        guard ByteSearch.contains(#"\u0000"#, in: buffer),
            let value = try? JSONSerialization.jsonObject(
                with: Data(buffer: buffer), options: [.fragmentsAllowed])
        else { return nil }
        let holdsNul = { (text: String) in text.unicodeScalars.contains("\0") }
        return JSONPaths.first(in: value, where: { ($0 as? String).map(holdsNul) ?? false }, orKey: holdsNul)
    }
}
