"""The API side of the backup and restore round trip (scripts/lib/backup-check.sh drives the rest).

  roundtrip.py seed BASE STATE         two tenants signed up; the first gets a webhook endpoint, a
                                       provider credential and a key made with an Idempotency-Key; the
                                       signup keys and the endpoint's secret are written to STATE
  roundtrip.py replay BASE STATE       the idempotent key creation again: the stored answer comes back
  roundtrip.py push BASE STATE SEED    a signed push to the first tenant's endpoint (answered 202)
  roundtrip.py settled BASE STATE N    waits (at most 120 s) until the first tenant has N jobs, all
                                       succeeded, and an analysis for each
  roundtrip.py snapshot BASE STATE OUT what the first tenant's key reads from every list, saved to OUT
  roundtrip.py pruned BASE STATE SNAP  after a retention pass far ahead: no jobs, deliveries or audit
                                       events left, usage by day and analyses as SNAP recorded
  roundtrip.py same BASE STATE SNAP    fails unless the API answers as SNAP recorded, the old tokens
                                       still verify, and the second tenant sees none of the first's rows
"""
import hashlib
import hmac
import json
import sys
import time
import urllib.error
import urllib.request
import uuid

LISTS = ["/v1/tenant", "/v1/keys", "/v1/webhooks", "/v1/deliveries?limit=100", "/v1/jobs?limit=100",
         "/v1/analyses?limit=100", "/v1/audit-log?limit=100", "/v1/usage", "/v1/budget", "/v1/policy",
         "/v1/identities?limit=100"]
# Written by the server as it is used, not part of what was backed up.
VOLATILE = {"last_used_at"}


def request(method, url, token=None, body=None, headers=None):
    data = None if body is None else (body if isinstance(body, bytes) else json.dumps(body).encode())
    all_headers = {"Content-Type": "application/json", **(headers or {})}
    if token:
        all_headers["Authorization"] = f"Bearer {token}"
    try:
        with urllib.request.urlopen(urllib.request.Request(url, data=data, method=method, headers=all_headers)) as r:
            return r.status, json.loads(r.read() or b"null")
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


def signup(base):
    slug = f"bk-{uuid.uuid4().hex[:12]}"
    status, answer = request("POST", f"{base}/v1/signup", body={
        "organization_name": "Backup", "slug": slug, "admin_email": f"{slug}@example.test",
        "admin_password": "correct horse battery"})
    assert status == 201, (status, answer)
    return {"tenant_id": answer["tenant"]["id"], "token": answer["api_key"]["token"]}


def seed(base, path):
    first, second = signup(base), signup(base)
    status, endpoint = request("POST", f"{base}/v1/webhooks", first["token"], {
        "provider": "github", "pipelines": ["commitments", "change_summary"]})
    assert status == 201, (status, endpoint)
    first["endpoint_url"], first["secret"] = endpoint["url"], endpoint["secret"]
    status, answer = request("PUT", f"{base}/v1/providers/openai/credentials", first["token"],
                             {"api_key": "sk-backup-check-0123456789"})
    assert status == 200, (status, answer)
    first["idempotent_key_id"] = create_key_idempotently(base, first)
    json.dump({"first": first, "second": second}, open(path, "w"))


def create_key_idempotently(base, tenant):
    status, answer = request("POST", f"{base}/v1/keys", tenant["token"], {"name": "ci", "scopes": ["jobs:read"]},
                             headers={"Idempotency-Key": "backup-check-key"})
    assert status == 201, (status, answer)
    return answer["id"]


def push(base, state, seed_text):
    sha = hashlib.sha1(seed_text.encode()).hexdigest()
    body = json.dumps({
        "ref": "refs/heads/main", "before": "0" * 40, "after": sha, "repository": {"full_name": "acme/backup"},
        "commits": [{"id": sha, "message": f"Ship {seed_text}; I will add its tests by Friday.",
                     "timestamp": "2026-11-20T16:04:05+01:00", "author": {"name": "Ada", "email": "ada@acme.test"},
                     "added": ["cache.py"], "removed": [], "modified": []}],
    }).encode()
    first = state["first"]
    signature = "sha256=" + hmac.new(first["secret"].encode(), body, hashlib.sha256).hexdigest()
    status, answer = request("POST", base + first["endpoint_url"], body=body, headers={
        "X-GitHub-Event": "push", "X-GitHub-Delivery": str(uuid.uuid4()), "X-Hub-Signature-256": signature})
    assert status == 202, (status, answer)


def settled(base, state, count):
    token = state["first"]["token"]
    deadline = time.time() + 120
    while True:
        _, jobs = request("GET", f"{base}/v1/jobs?limit=100", token)
        _, analyses = request("GET", f"{base}/v1/analyses?limit=100", token)
        statuses = [job["status"] for job in jobs.get("items", [])] if isinstance(jobs, dict) else []
        done = len(statuses) == count and all(s == "succeeded" for s in statuses)
        if done and len(analyses.get("items", [])) >= count:
            return
        if time.time() > deadline:
            sys.exit(f"jobs not settled after 120 s: {statuses}")
        time.sleep(0.5)


def strip(node):
    if isinstance(node, dict):
        return {key: strip(value) for key, value in node.items() if key not in VOLATILE}
    if isinstance(node, list):
        return [strip(value) for value in node]
    return node


def snapshot(base, state):
    token = state["first"]["token"]
    answers = {}
    for path in LISTS:
        status, answer = request("GET", base + path, token)
        assert status == 200, (path, status, answer)
        answers[path] = strip(answer)
    return answers


def same(base, state, path):
    recorded = json.load(open(path))
    now = snapshot(base, state)
    failures = [p for p in LISTS if now[p] != recorded[p]]
    for p in failures:
        print(f"{p} answers differently after the restore:\n  before {json.dumps(recorded[p])[:600]}\n"
              f"  after  {json.dumps(now[p])[:600]}", file=sys.stderr)
    # The second tenant's old key verifies, and it sees none of the first tenant's rows.
    second = state["second"]["token"]
    for p in ["/v1/deliveries?limit=100", "/v1/jobs?limit=100", "/v1/analyses?limit=100", "/v1/webhooks"]:
        status, answer = request("GET", base + p, second)
        if status != 200 or answer.get("items"):
            failures.append(p)
            print(f"the second tenant's {p} answered {status}: {str(answer)[:300]}", file=sys.stderr)
    first_job = (recorded["/v1/jobs?limit=100"].get("items") or [{}])[0].get("id")
    if first_job:
        status, _ = request("GET", f"{base}/v1/jobs/{first_job}", second)
        if status != 404:
            failures.append("cross-tenant job")
            print(f"the second tenant reading the first's job answered {status}", file=sys.stderr)
    status, _ = request("GET", f"{base}/v1/keys", "not-a-token")
    if status != 401:
        failures.append("bad token")
    if failures:
        sys.exit(1)


def pruned(base, state, path):
    recorded = json.load(open(path))
    now = snapshot(base, state)
    failures = []
    for p in ["/v1/jobs?limit=100", "/v1/deliveries?limit=100", "/v1/audit-log?limit=100"]:
        if now[p].get("items"):
            failures.append(f"{p} still lists {len(now[p]['items'])} items")
    for p in ["/v1/usage", "/v1/analyses?limit=100", "/v1/keys", "/v1/webhooks"]:
        if now[p] != recorded[p]:
            failures.append(f"{p} changed: {json.dumps(recorded[p])[:300]} -> {json.dumps(now[p])[:300]}")
    if not recorded["/v1/usage"].get("items"):
        failures.append("no usage was recorded before the pass")
    if failures:
        sys.exit("\n".join(failures))


def main():
    command, base, state_path = sys.argv[1], sys.argv[2], sys.argv[3]
    if command == "seed":
        return seed(base, state_path)
    state = json.load(open(state_path))
    if command == "push":
        push(base, state, sys.argv[4])
    elif command == "replay":
        key_id = create_key_idempotently(base, state["first"])
        assert key_id == state["first"]["idempotent_key_id"], (key_id, state["first"]["idempotent_key_id"])
    elif command == "settled":
        settled(base, state, int(sys.argv[4]))
    elif command == "snapshot":
        json.dump(snapshot(base, state), open(sys.argv[4], "w"))
    elif command == "pruned":
        pruned(base, state, sys.argv[4])
    elif command == "same":
        same(base, state, sys.argv[4])
    else:
        sys.exit(f"unknown command {command}")


if __name__ == "__main__":
    main()
