import Foundation

/// The identifier of a tenant (an organisation). Every tenant-scoped repository call takes one explicitly.
public struct TenantID: Hashable, Sendable, CustomStringConvertible {
    public let rawValue: UUID

    public init(_ rawValue: UUID) { self.rawValue = rawValue }

    /// Parses a textual UUID; nil for anything else.
    public init?(string: String) {
        guard let uuid = UUID(uuidString: string) else { return nil }
        self.rawValue = uuid
    }

    /// A fresh random identifier.
    public static func generate() -> TenantID { TenantID(UUID()) }

    /// The lowercase canonical text form, as Postgres prints it.
    public var description: String { rawValue.uuidString.lowercased() }
}
