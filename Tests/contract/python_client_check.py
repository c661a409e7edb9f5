"""Drives the live server through a Python client generated from openapi.yaml by openapi-python-client.

scripts/test generates the client into a scratch folder and runs this with it on PYTHONPATH, so a spec
change that breaks Python users (a renamed field, a response the spec no longer declares) fails CI.
Usage: python_client_check.py BASE_URL
"""

import sys
import uuid

from cpclient import AuthenticatedClient, Client
from cpclient.api.audit import list_audit_events
from cpclient.api.interventions import (
    get_intervention_settings,
    get_intervention_totals,
    list_interventions,
    put_intervention_settings,
    report_intervention_outcome,
)
from cpclient.api.keys import create_key, get_key, list_keys, revoke_key, rotate_key
from cpclient.api.public import accept_invitation, login, logout, refresh_session, signup
from cpclient.api.tenant import create_invitation, delete_user, get_tenant, list_users, update_tenant, update_user
from cpclient.models import (
    AcceptedInvitation,
    AcceptInvitationRequest,
    AccessToken,
    CreatedInvitation,
    InterventionList,
    InterventionOutcome,
    InterventionOutcomeOutcome,
    InterventionSettings,
    InterventionSettingsUpdate,
    InterventionTone,
    InterventionTotals,
    InvitationRequest,
    InvitationRequestRole,
    Member,
    RefreshRequest,
    Role,
    UserList,
    UserRemoval,
    UserUpdate,
    ApiKeyList,
    AuditEventList,
    CreatedApiKey,
    CreateKeyRequest,
    LoginRequest,
    Problem,
    RotatedApiKey,
    RotateKeyRequest,
    Scope,
    SignupRequest,
    SignupResult,
    Tenant,
    TenantUpdate,
)


def expect(condition: bool, what: str) -> None:
    if not condition:
        raise SystemExit(f"python client check failed: {what}")


def main(base_url: str) -> None:
    anonymous = Client(base_url=base_url, raise_on_unexpected_status=True)
    slug = f"py-{uuid.uuid4().hex[:12]}"
    email = f"{slug}@example.test"
    password = "correct horse battery"

    created = signup.sync(
        client=anonymous,
        body=SignupRequest(organization_name="Python", slug=slug, admin_email=email, admin_password=password),
        idempotency_key=str(uuid.uuid4()),
    )
    expect(isinstance(created, SignupResult), f"signup answered {created!r}")
    expect(created.tenant.slug == slug and len(created.api_key.scopes) == 17, "signup result")
    taken = signup.sync(
        client=anonymous,
        body=SignupRequest(organization_name="Again", slug=slug, admin_email=f"x-{email}", admin_password=password),
    )
    expect(isinstance(taken, Problem) and taken.code.value == "conflict", f"taken slug answered {taken!r}")

    owner = AuthenticatedClient(base_url=base_url, token=created.api_key.token, raise_on_unexpected_status=True)
    tenant = get_tenant.sync(client=owner)
    expect(isinstance(tenant, Tenant) and tenant.id == created.tenant.id, "tenant")
    renamed = update_tenant.sync(client=owner, body=TenantUpdate(name="Python renamed", timezone="Europe/Berlin"))
    expect(isinstance(renamed, Tenant) and renamed.timezone == "Europe/Berlin", "tenant update")

    key = create_key.sync(
        client=owner,
        body=CreateKeyRequest(name="ci", scopes=[Scope.TENANTREAD, Scope.KEYSREAD], expires_in_seconds=3600),
        idempotency_key=str(uuid.uuid4()),
    )
    expect(isinstance(key, CreatedApiKey) and key.token, f"create key answered {key!r}")
    reader = AuthenticatedClient(base_url=base_url, token=key.token, raise_on_unexpected_status=True)
    expect(isinstance(get_tenant.sync(client=reader), Tenant), "the new key reads the tenant")

    rotated = rotate_key.sync(key.id, client=owner, body=RotateKeyRequest(grace_seconds=60))
    expect(isinstance(rotated, RotatedApiKey), f"rotate answered {rotated!r}")
    expect(rotated.previous_key.id == key.id and rotated.previous_key.revoked_at is not None, "previous key")
    expect(isinstance(get_tenant.sync(client=reader), Tenant), "the old key works during its grace period")
    successor = AuthenticatedClient(base_url=base_url, token=rotated.api_key.token, raise_on_unexpected_status=True)
    expect(isinstance(get_tenant.sync(client=successor), Tenant), "the rotated-in key works")

    page = list_keys.sync(client=owner, limit=1)
    expect(isinstance(page, ApiKeyList) and len(page.items) == 1 and page.next_cursor, "first page of keys")
    rest = list_keys.sync(client=owner, limit=100, cursor=page.next_cursor)
    expect(isinstance(rest, ApiKeyList), "next page of keys")
    ids = {item.id for item in page.items} | {item.id for item in rest.items}
    expect({created.api_key.id, key.id, rotated.api_key.id} <= ids, "every key listed once across pages")

    expect(revoke_key.sync_detailed(rotated.api_key.id, client=owner).status_code == 204, "revoke")
    gone = get_key.sync(rotated.api_key.id, client=owner)
    expect(isinstance(gone, Problem) and gone.status == 404, f"revoked key answered {gone!r}")

    session = login.sync(client=anonymous, body=LoginRequest(email=email, password=password))
    expect(isinstance(session, AccessToken) and session.token_type.value == "Bearer", "login")

    refreshed = refresh_session.sync(client=anonymous, body=RefreshRequest(refresh_token=session.refresh_token))
    expect(isinstance(refreshed, AccessToken) and refreshed.refresh_token != session.refresh_token, "refresh")
    reused = refresh_session.sync(client=anonymous, body=RefreshRequest(refresh_token=session.refresh_token))
    expect(isinstance(reused, Problem) and reused.status == 401, f"a reused refresh token answered {reused!r}")

    # A team: an invitation accepted, a role raised, the member removed.
    invited = create_invitation.sync(
        client=owner,
        body=InvitationRequest(email=f"member-{email}", role=InvitationRequestRole.MEMBER),
        idempotency_key=str(uuid.uuid4()),
    )
    expect(isinstance(invited, CreatedInvitation) and invited.token.startswith("cpinv_"), f"invite {invited!r}")
    joined = accept_invitation.sync(
        client=anonymous, body=AcceptInvitationRequest(token=invited.token, password="another long passphrase")
    )
    expect(isinstance(joined, AcceptedInvitation) and joined.user.role == Role.MEMBER, f"accept {joined!r}")
    raised = update_user.sync(joined.user.id, client=owner, body=UserUpdate(role=Role.ADMIN))
    expect(isinstance(raised, Member) and raised.role == Role.ADMIN, f"role change {raised!r}")
    members = list_users.sync(client=owner, limit=100)
    expect(isinstance(members, UserList) and len(members.items) == 2, "two members")
    removed = delete_user.sync(joined.user.id, client=owner)
    expect(isinstance(removed, UserRemoval) and removed.id == joined.user.id, f"removal {removed!r}")
    ended = logout.sync_detailed(client=anonymous, body=RefreshRequest(refresh_token=joined.refresh_token))
    expect(ended.status_code == 401, f"the removed member's session is gone ({ended.status_code})")
    # The session the reuse ended logs out as a no-op; a fresh one is ended (and audited).
    fresh = login.sync(client=anonymous, body=LoginRequest(email=email, password=password))
    for token in [refreshed.refresh_token, fresh.refresh_token]:
        ended = logout.sync_detailed(client=anonymous, body=RefreshRequest(refresh_token=token))
        expect(ended.status_code == 204, f"logout answered {ended.status_code}")

    # Interventions: settings (the Slack URL sealed, never answered), an empty list and weekly totals, and
    # an outcome for an intervention that does not exist.
    settings = put_intervention_settings.sync(
        client=owner,
        body=InterventionSettingsUpdate(
            tone=InterventionTone.DIRECT, escalation_delay_seconds=3600,
            slack_webhook_url="https://hooks.example.test/services/T0/B0/x"),
    )
    expect(
        isinstance(settings, InterventionSettings) and settings.slack_webhook_configured
        and settings.tone == InterventionTone.DIRECT, f"intervention settings: {settings}")
    read = get_intervention_settings.sync(client=owner)
    expect(isinstance(read, InterventionSettings) and read.escalation_delay_seconds == 3600, f"settings read: {read}")
    listed = list_interventions.sync(client=owner, limit=10)
    expect(isinstance(listed, InterventionList) and listed.items == [], f"interventions: {listed}")
    totals = get_intervention_totals.sync(client=owner)
    expect(isinstance(totals, InterventionTotals) and totals.items == [], f"weekly totals: {totals}")
    missing = report_intervention_outcome.sync_detailed(
        intervention_id=str(uuid.uuid4()), client=owner,
        body=InterventionOutcome(outcome=InterventionOutcomeOutcome.ACCEPTED))
    expect(missing.status_code == 404, f"an unknown intervention's outcome answered {missing.status_code}")

    audit = list_audit_events.sync(client=owner, limit=100)
    expect(isinstance(audit, AuditEventList), "audit log")
    actions = [event.action for event in audit.items]
    for action in [
        "tenant.signup", "tenant.update", "key.create", "key.rotate", "key.revoke", "user.login", "user.invite",
        "user.join", "user.role_change", "user.remove", "user.logout", "session.reuse_detected",
        "interventions.settings",
    ]:
        expect(action in actions, f"audit log lacks {action}: {actions}")
    print(f"python client check passed: {len(actions)} audit events, {len(ids)} keys")


if __name__ == "__main__":
    main(sys.argv[1])
