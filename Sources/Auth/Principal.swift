import Foundation
import Persistence
import Tenancy

/// Who is calling, once a token has been verified.
public struct Principal: Sendable, Equatable {
    /// The credential behind the call.
    public enum Actor: Sendable, Equatable {
        case apiKey(UUID)
        case user(UUID)
        case `operator`(String)
    }

    public let actor: Actor
    /// The caller's tenant; nil for operators.
    public let tenantID: TenantID?
    public let scopes: Set<Scope>
    /// When the credential stops being valid.
    public let expiresAt: Date
    /// The person whose current role bounds the caller: the user, or the owner of the key (nil for
    /// operators).
    public let owner: UUID?

    public init(actor: Actor, tenantID: TenantID?, scopes: Set<Scope>, expiresAt: Date, owner: UUID? = nil) {
        self.actor = actor
        self.tenantID = tenantID
        self.scopes = scopes
        self.expiresAt = expiresAt
        self.owner = owner
    }

    public var isOperator: Bool {
        if case .operator = actor { return true }
        return false
    }

    /// The actor as the audit log records it.
    public var auditActor: (type: AuditLog.ActorType, id: String) {
        switch actor {
        case .apiKey(let id): (.apiKey, id.uuidString.lowercased())
        case .user(let id): (.user, id.uuidString.lowercased())
        case .operator(let name): (.operator, name)
        }
    }
}
