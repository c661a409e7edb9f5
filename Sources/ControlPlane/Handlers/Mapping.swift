import Auth
import ControlPlaneAPI
import ControlPlaneAPITypes
import Foundation
import Tenancy

/// Conversions between domain records and the generated API types.
extension Components.Schemas.Tenant {
    init(_ tenant: Tenant) {
        self.init(
            id: tenant.id.description, slug: tenant.slug, name: tenant.name,
            status: Components.Schemas.TenantStatus(rawValue: tenant.status.rawValue) ?? .suspended,
            plan: Components.Schemas.Plan(rawValue: tenant.plan.rawValue) ?? .free, timezone: tenant.timezone,
            createdAt: tenant.createdAt)
    }
}

extension Components.Schemas.ApiKey {
    init(_ key: ApiKeyRecord) {
        self.init(
            id: key.id.uuidString.lowercased(), name: key.name, scopes: Components.Schemas.Scope.list(key.scopes),
            createdAt: key.createdAt, expiresAt: key.expiresAt, revokedAt: key.revokedAt, lastUsedAt: key.lastUsedAt)
    }
}

extension Components.Schemas.Member {
    init(_ user: UserRecord) {
        self.init(
            id: user.id.uuidString.lowercased(), email: user.email,
            role: .init(rawValue: user.role.rawValue) ?? .member,
            createdAt: user.createdAt)
    }
}

extension Components.Schemas.CreatedInvitation {
    init(_ invitation: InvitationRecord, token: String, now: Date) {
        self.init(
            id: invitation.id.uuidString.lowercased(), email: invitation.email,
            role: .init(rawValue: invitation.role.rawValue) ?? .member,
            status: .init(rawValue: invitation.status(at: now).rawValue) ?? .pending,
            invitedBy: invitation.invitedBy, createdAt: invitation.createdAt, expiresAt: invitation.expiresAt,
            token: token)
    }
}

extension Components.Schemas.Invitation {
    init(_ invitation: InvitationRecord, now: Date) {
        self.init(
            id: invitation.id.uuidString.lowercased(), email: invitation.email,
            role: .init(rawValue: invitation.role.rawValue) ?? .member,
            status: .init(rawValue: invitation.status(at: now).rawValue) ?? .pending,
            invitedBy: invitation.invitedBy, createdAt: invitation.createdAt, expiresAt: invitation.expiresAt,
            acceptedAt: invitation.acceptedAt, revokedAt: invitation.revokedAt)
    }
}

extension Components.Schemas.CreatedApiKey {
    init(_ key: ApiKeyRecord, token: String) {
        self.init(
            id: key.id.uuidString.lowercased(), name: key.name, token: token,
            scopes: Components.Schemas.Scope.list(key.scopes), createdAt: key.createdAt, expiresAt: key.expiresAt)
    }
}

extension Components.Schemas.Scope {
    static func list(_ scopes: Set<Scope>) -> [Self] {
        scopes.sorted().compactMap { Self(rawValue: $0.rawValue) }
    }
}

extension Set where Element == Scope {
    init(_ scopes: [Components.Schemas.Scope]) {
        self.init(scopes.compactMap { Scope(rawValue: $0.rawValue) })
    }
}

extension Components.Schemas.AuditEvent {
    init(_ event: AuditLog.Event) {
        self.init(
            id: String(event.id), actorType: ActorTypePayload(rawValue: event.entry.actorType.rawValue) ?? .system,
            actorId: event.entry.actorID, action: event.entry.action, targetType: event.entry.targetType,
            targetId: event.entry.targetID, requestId: event.entry.requestID,
            clientAddress: event.entry.clientAddress,
            details: event.entry.details.isEmpty ? nil : .init(additionalProperties: event.entry.details),
            occurredAt: event.occurredAt)
    }
}
