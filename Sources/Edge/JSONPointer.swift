/// JSON Pointers (RFC 6901): where in a request body a problem is.
public enum JSONPointer {
    /// The pointer to the member reached by `segments` (keys and array indices) from the document's root;
    /// `""` is the whole document.
    public static func to(_ segments: [String]) -> String {
        segments.map { "/" + $0.replacingOccurrences(of: "~", with: "~0").replacingOccurrences(of: "/", with: "~1") }
            .joined()
    }

    /// The pointer to where a decoder was (`DecodingError`'s coding path).
    public static func to(_ codingPath: [any CodingKey]) -> String {
        to(codingPath.map { $0.intValue.map(String.init) ?? $0.stringValue })
    }
}
