/// Walks a parsed JSON value (`JSONSerialization`'s objects, keys in sorted order) and names the first
/// place that matches, as `items[2].name` (`(body)` for the value itself).
package enum JSONPaths {
    /// The path of the first value `isMatch` accepts, or of the first object key `isMatchingKey` accepts.
    package static func first(
        in value: Any, path: String = "", where isMatch: (Any) -> Bool,
        orKey isMatchingKey: (String) -> Bool = { _ in false }
    ) -> String? {
        if isMatch(value) { return path.isEmpty ? "(body)" : path }
        switch value {
        case let object as [String: Any]:
            for key in object.keys.sorted() {
                let child = path.isEmpty ? key : "\(path).\(key)"
                if isMatchingKey(key) { return child }
                if let found = first(in: object[key] as Any, path: child, where: isMatch, orKey: isMatchingKey) {
                    return found
                }
            }
            return nil
        case let array as [Any]:
            for (index, element) in array.enumerated() {
                if let found = first(in: element, path: "\(path)[\(index)]", where: isMatch, orKey: isMatchingKey) {
                    return found
                }
            }
            return nil
        default:
            return nil
        }
    }
}
