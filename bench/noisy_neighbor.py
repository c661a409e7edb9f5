"""The driver of bench/noisy-neighbor.sh: signs up tenants A and B on the server at API_PORT, then
measures B's latency (a hot-path GET, a gateway call on `mock`, a push until its analysis succeeded)
alone and while A runs each attack, and prints one table. Every loop is bounded in time and count.
Usage: noisy_neighbor.py API_PORT HOSTILE_PORT PHASE_SECONDS PID [PID ...]"""
import hashlib
import hmac
import http.client
import json
import random
import socket
import statistics
import sys
import threading
import time
import uuid

API_PORT, HOSTILE_PORT, PHASE = int(sys.argv[1]), int(sys.argv[2]), float(sys.argv[3])
PIDS = [int(p) for p in sys.argv[4:]]


def call(method, path, token=None, body=None, headers=None, timeout=60):
    connection = http.client.HTTPConnection("127.0.0.1", API_PORT, timeout=timeout)
    sent = dict(headers or {})
    if token:
        sent["Authorization"] = f"Bearer {token}"
    data = body
    if isinstance(body, (dict, list)):
        data = json.dumps(body).encode()
        sent["Content-Type"] = "application/json"
    try:
        connection.request(method, path, body=data, headers=sent)
        response = connection.getresponse()
        text = response.read()
        return response.status, text
    finally:
        connection.close()


def signup(name):
    slug = f"{name}-{uuid.uuid4().hex[:10]}"
    password = "correct horse battery"
    status, text = call("POST", "/v1/signup", body={
        "organization_name": name, "slug": slug, "admin_email": f"{slug}@example.test", "admin_password": password})
    assert status == 201, text
    answer = json.loads(text)
    return {"token": answer["api_key"]["token"], "email": f"{slug}@example.test", "id": answer["tenant"]["id"]}


def policy(token, provider, model, timeout_ms):
    status, text = call("PUT", "/v1/policy", token, {
        "routes": {"default": [{"provider": provider, "model": model, "max_tokens": 256, "timeout_ms": timeout_ms}]},
        "max_tokens_per_request": 4096, "max_llm_requests_per_hour": 10_000_000,
        "cache": {"enabled": False, "ttl_seconds": 60}})
    assert status == 200, text


def endpoint(token):
    status, text = call("POST", "/v1/webhooks", token, {"provider": "github", "pipelines": ["commitments"]})
    assert status == 201, text
    return json.loads(text)


def push(hook, n, tag):
    sha = hashlib.sha1(f"{tag}-{n}-{time.time()}-{random.random()}".encode()).hexdigest()
    body = json.dumps({"ref": "refs/heads/main", "after": sha, "repository": {"full_name": f"{tag}/app"},
                       "commits": [{"id": sha, "message": f"Change {n}: we will ship the cache by Friday.",
                                    "timestamp": "2026-11-20T16:04:05+01:00",
                                    "author": {"name": "Bo", "email": "bo@beta.test"},
                                    "added": [], "removed": [], "modified": ["app.py"]}]}).encode()
    signature = "sha256=" + hmac.new(hook["secret"].encode(), body, hashlib.sha256).hexdigest()
    path = "/" + hook["url"].split("/", 3)[3] if hook["url"].startswith("http") else hook["url"]
    return call("POST", path, body=body, headers={
        "Content-Type": "application/json", "X-GitHub-Event": "push", "X-GitHub-Delivery": str(uuid.uuid4()),
        "X-Hub-Signature-256": signature})


def rss_mb():
    total = 0
    for pid in PIDS:
        try:
            with open(f"/proc/{pid}/status") as status:
                for line in status:
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1]) / 1024
        except OSError:
            pass
    return total


# --- tenant B's probes --------------------------------------------------------------------------------

def probe(stop, samples, interval, measure):
    """Runs `measure` every `interval` seconds until `stop`, recording each latency in ms."""
    while not stop.is_set():
        started = time.perf_counter()
        try:
            ok = measure()
        except OSError:
            ok = False
        elapsed = (time.perf_counter() - started) * 1000
        samples.append(elapsed if ok else float("inf"))
        stop.wait(max(0.0, interval - elapsed / 1000))


def measure_b(b, hook, seconds):
    stop = threading.Event()
    results = {"GET /v1/tenant": [], "gateway call": [], "push to analysis": []}

    def get():
        return call("GET", "/v1/tenant", b["token"])[0] == 200

    def gateway():
        return call("POST", "/v1/llm/chat/completions", b["token"], {
            "model": "auto", "messages": [{"role": "user", "content": f"hi {random.random()}"}]})[0] == 200

    counter = [0]

    def analysed():
        counter[0] += 1
        status, text = push(hook, counter[0], "b")
        if status != 202:
            return False
        jobs = json.loads(text).get("job_ids", [])
        deadline = time.time() + 60
        while jobs and time.time() < deadline:
            status, text = call("GET", f"/v1/jobs/{jobs[0]}", b["token"])
            if status == 200 and json.loads(text).get("status") == "succeeded":
                return True
            time.sleep(0.02)
        return False

    threads = [threading.Thread(target=probe, args=(stop, results["GET /v1/tenant"], 0.05, get)),
               threading.Thread(target=probe, args=(stop, results["gateway call"], 0.1, gateway)),
               threading.Thread(target=probe, args=(stop, results["push to analysis"], 0.5, analysed))]
    for thread in threads:
        thread.start()
    time.sleep(seconds)
    stop.set()
    for thread in threads:
        thread.join(timeout=90)
    return results


def percentile(values, fraction):
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    return ordered[min(len(ordered) - 1, int(round(fraction * (len(ordered) - 1))))]


# --- tenant A's attacks -------------------------------------------------------------------------------

def attack_trickling_backlog(a, stop):
    """A's pushes all go to its own upstream, which sends headers and then a byte every 2 s."""
    policy(a["token"], "openai_compatible", "trickle", 30_000)
    for n in range(200):
        if stop.is_set():
            break
        push(a["hook"], n, "a")


def attack_unread_flood(a, stop):
    """Eight streams from A's flooding upstream, each opened by a client that then reads nothing."""
    policy(a["token"], "openai_compatible", "flood", 60_000)
    body = json.dumps({"model": "auto", "stream": True, "messages": [{"role": "user", "content": "hi"}]}).encode()
    sockets = []
    for _ in range(8):
        s = socket.create_connection(("127.0.0.1", API_PORT))
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 16384)
        s.sendall(b"POST /v1/llm/chat/completions HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer " + a["token"].encode()
                  + b"\r\nContent-Type: application/json\r\nContent-Length: " + str(len(body)).encode() + b"\r\n\r\n" + body)
        sockets.append(s)
    stop.wait()
    for s in sockets:
        s.close()


def attack_body_flood(a, stop):
    """Sixteen connections at once, each sending 25 MiB bodies to A's webhook URL, over and over."""
    path = "/" + a["hook"]["url"].split("/", 3)[3]
    chunk = b"x" * (1 << 20)

    def send_one():
        s = socket.create_connection(("127.0.0.1", API_PORT), timeout=30)
        s.sendall(f"POST {path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                  f"X-GitHub-Event: push\r\nContent-Length: {25 << 20}\r\n\r\n".encode())
        for _ in range(25):
            if stop.is_set():
                break
            s.sendall(chunk)
        s.recv(4096)
        s.close()
    flood(16, send_one, stop)


def attack_login_flood(a, stop):
    """Sixteen clients signing in to A's admin with wrong passwords as fast as they are answered."""
    flood(16, lambda: call("POST", "/v1/auth/login", body={
        "email": a["email"], "password": f"wrong {random.random()}"}), stop)


def attack_rate_limit(a, stop):
    """Thirty-two clients calling the gateway for A as fast as they are answered (A at its rate limit)."""
    policy(a["token"], "mock", "mock-1", 30_000)
    flood(32, lambda: call("POST", "/v1/llm/chat/completions", a["token"], {
        "model": "auto", "messages": [{"role": "user", "content": f"hi {random.random()}"}]}), stop)


def flood(clients, send, stop):
    """Runs `send` over and over on `clients` threads until `stop`."""
    def loop():
        while not stop.is_set():
            try:
                send()
            except OSError:
                time.sleep(0.05)
    threads = [threading.Thread(target=loop) for _ in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


ATTACKS = [("trickling upstream + push backlog", attack_trickling_backlog),
           ("unread flooding streams", attack_unread_flood),
           ("25 MiB body flood", attack_body_flood),
           ("login flood", attack_login_flood),
           ("gateway calls at its rate limit", attack_rate_limit)]


def main():
    a, b = signup("attacker"), signup("neighbour")
    a["hook"], b_hook = endpoint(a["token"]), endpoint(b["token"])
    # B's own policy allows its probes' calls for the whole run (the standard one allows 1,000 an hour).
    policy(b["token"], "mock", "mock-1", 30_000)
    status, text = call("PUT", "/v1/providers/openai_compatible/credentials", a["token"], {
        "api_key": "key", "base_url": f"http://127.0.0.1:{HOSTILE_PORT}/v1"})
    assert status in (200, 201, 204), text
    # Warm-up, then B alone.
    measure_b(b, b_hook, 3)
    rss_start = rss_mb()
    alone = measure_b(b, b_hook, PHASE)
    peak = rss_mb()
    rows = []
    for name, attack in ATTACKS:
        stop = threading.Event()
        attacker = threading.Thread(target=attack, args=(a, stop))
        attacker.start()
        time.sleep(2)
        sampler_stop = threading.Event()

        def sample():
            nonlocal peak
            while not sampler_stop.is_set():
                peak = max(peak, rss_mb())
                sampler_stop.wait(0.2)
        sampler = threading.Thread(target=sample)
        sampler.start()
        under = measure_b(b, b_hook, PHASE)
        stop.set()
        attacker.join(timeout=60)
        sampler_stop.set()
        sampler.join()
        for path in alone:
            rows.append((name, path, alone[path], under[path]))
        time.sleep(3)

    print(f"{'attack by tenant A':36} {'tenant B path':18} {'alone p50/p99 ms':>18} {'attacked p50/p99 ms':>20}"
          f" {'p99 ratio':>9}  {'failed':>6}  aim <= 1.5")
    worst = 0.0
    for name, path, before, after in rows:
        ok_before = [v for v in before if v != float("inf")]
        ok_after = [v for v in after if v != float("inf")]
        p99_before, p99_after = percentile(ok_before, 0.99), percentile(ok_after, 0.99)
        ratio = p99_after / p99_before if p99_before else float("nan")
        worst = max(worst, ratio)
        failed = len(after) - len(ok_after)
        print(f"{name:36} {path:18} {percentile(ok_before, .5):8.1f}/{p99_before:<9.1f}"
              f" {percentile(ok_after, .5):9.1f}/{p99_after:<10.1f} {ratio:9.2f}  {failed:6d}  "
              f"{'holds' if ratio <= 1.5 and failed == 0 else 'MISSED'}")
    print(f"samples per phase: {', '.join(f'{k} {len(v)}' for k, v in alone.items())}")
    print(f"server and worker RSS: {rss_start:.0f} MB before the attacks, peak {peak:.0f} MB,"
          f" growth {peak - rss_start:.0f} MB (aim <= 200 MB)")


if __name__ == "__main__":
    main()
