import Foundation

extension UUID {
    /// The lowercased text the API, the audit log and `created_by` use.
    public var text: String { uuidString.lowercased() }
}
