"""Every metric the alert rules (and the dashboard) name must be served by the live processes.

  metrics_coverage.py push BASE TOKEN
      creates a webhook endpoint for the tenant of TOKEN and sends it a signed push (jobs to run);
  metrics_coverage.py seen NAME URL
      waits (at most 30 s) until the /metrics page at URL shows NAME;
  metrics_coverage.py check FILE [FILE ...] -- URL [URL ...]
      waits (at most 90 s) until every metric named in the FILEs (PromQL in alert rules, or a Grafana
      dashboard's targets) appears in the union of the /metrics pages at the URLs; prints what is
      missing and exits 1 otherwise."""
import hashlib
import hmac
import json
import re
import sys
import time
import urllib.request
import uuid

NAME = re.compile(r"\b((?:controlplane_|background_jobs_|ai_token_|http_request)[a-z_]*)\b")


def request(method, url, token=None, body=None, headers=None):
    data = None if body is None else (body if isinstance(body, bytes) else json.dumps(body).encode())
    all_headers = {"Content-Type": "application/json", **(headers or {})}
    if token:
        all_headers["Authorization"] = f"Bearer {token}"
    with urllib.request.urlopen(urllib.request.Request(url, data=data, method=method, headers=all_headers)) as answer:
        return answer.status, answer.read()


def push(base, token):
    status, text = request("POST", f"{base}/v1/webhooks", token, {"provider": "github", "pipelines": ["commitments"]})
    assert status == 201, (status, text)
    endpoint = json.loads(text)
    sha = hashlib.sha1(str(uuid.uuid4()).encode()).hexdigest()
    body = json.dumps({
        "ref": "refs/heads/main", "before": "0" * 40, "after": sha, "repository": {"full_name": "acme/metrics"},
        "commits": [{"id": sha, "message": "Add the cache; I will write its tests by Friday.",
                     "timestamp": "2026-11-20T16:04:05+01:00", "author": {"name": "Ada", "email": "ada@acme.test"},
                     "added": ["cache.py"], "removed": [], "modified": []}],
    }).encode()
    signature = "sha256=" + hmac.new(endpoint["secret"].encode(), body, hashlib.sha256).hexdigest()
    status, _ = request("POST", base + endpoint["url"], body=body, headers={
        "X-GitHub-Event": "push", "X-GitHub-Delivery": str(uuid.uuid4()), "X-Hub-Signature-256": signature})
    assert status == 202, status


def named(path):
    text = open(path).read()
    if path.endswith(".json"):
        exprs = []

        def walk(node):
            if isinstance(node, dict):
                if isinstance(node.get("expr"), str):
                    exprs.append(node["expr"])
                for value in node.values():
                    walk(value)
            elif isinstance(node, list):
                for value in node:
                    walk(value)

        walk(json.loads(text))
        text = "\n".join(exprs)
    return set(NAME.findall(text))


def served(urls):
    names = set()
    for url in urls:
        try:
            _, text = request("GET", url)
        except OSError:
            continue
        for line in text.decode().splitlines():
            if line and not line.startswith("#"):
                names.add(re.split(r"[{ ]", line, maxsplit=1)[0])
    return names


def check(files, urls):
    wanted = set().union(*(named(path) for path in files))
    assert wanted, "no metric named in " + ", ".join(files)
    deadline = time.time() + 90
    while True:
        missing = sorted(wanted - served(urls))
        if not missing:
            print(f"all {len(wanted)} metrics named in {', '.join(files)} are served")
            return 0
        if time.time() > deadline:
            print("named but not served: " + ", ".join(missing))
            return 1
        time.sleep(1)


if __name__ == "__main__":
    if sys.argv[1] == "push":
        push(sys.argv[2], sys.argv[3])
    elif sys.argv[1] == "seen":
        deadline = time.time() + 30
        while sys.argv[2] not in served([sys.argv[3]]):
            if time.time() > deadline:
                sys.exit(f"{sys.argv[3]} never showed {sys.argv[2]}")
            time.sleep(0.5)
    else:
        split = sys.argv.index("--")
        sys.exit(check(sys.argv[2:split], sys.argv[split + 1:]))
