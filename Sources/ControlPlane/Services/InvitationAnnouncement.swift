import Auth
import Edge
import Foundation
import Notifications

/// How a made invitation reaches the tenant: an `invitation.created` notification carrying the invitation
/// and, sealed in its own field, the token the invitee accepts with.
enum InvitationAnnouncement {
    static func through(_ notifications: NotificationStore) -> InvitationIssuance.Announce {
        { invitation, token, transaction in
            _ = try await notifications.emit(
                .invitationCreated, data: try eventData(invitation), secret: (field: "token", value: token.text),
                in: transaction)
        }
    }

    static func eventData(_ invitation: InvitationRecord) throws -> String {
        let object: [String: String] = [
            "invitation_id": invitation.id.text, "email": invitation.email, "role": invitation.role.rawValue,
            "invited_by": invitation.invitedBy,
            "expires_at": InternetDateTranscoder.format(invitation.expiresAt) ?? "",
        ]
        return String(decoding: try JSONEncoder().encode(object), as: UTF8.self)
    }
}
