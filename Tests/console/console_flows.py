"""The admin console in a real browser (Debian's headless Chromium, driven by Selenium through
chromedriver) against the live server: each page's main flow end to end, a screenshot of each page, and
no Content-Security-Policy violation or script error logged by the browser (failed network calls are the
API's own answers and are not counted). Exits non-zero (naming the
flow) on the first failure.

    console_flows.py BASE_URL SCREENSHOT_DIR

CP_CONSOLE_OPERATOR_TOKEN holds an operator token (`controlplane operator-token`) for the operator's flow.
"""

import hashlib
import hmac
import json
import os
import random
import sys
import traceback
import urllib.request

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.common.exceptions import StaleElementReferenceException
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support import expected_conditions as ready
from selenium.webdriver.support.select import Select
from selenium.webdriver.support.ui import WebDriverWait

BASE, SHOTS = sys.argv[1], sys.argv[2]
PASSWORD = "correct horse battery"
FLOWS = []


def api(method, path, body=None, token=None):
    request = urllib.request.Request(BASE + path, method=method, data=json.dumps(body).encode() if body else None,
                                     headers={"Content-Type": "application/json"})
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    with urllib.request.urlopen(request) as response:
        text = response.read()
        return json.loads(text) if text else None


def flow(function):
    FLOWS.append(function)
    return function


def browser():
    options = webdriver.ChromeOptions()
    options.binary_location = "/usr/bin/chromium"
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1280,900"):
        options.add_argument(argument)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    return webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)


def wait(driver, condition, seconds=10):
    # A list the page has just redrawn leaves the elements read before it stale: they are read again.
    return WebDriverWait(driver, seconds, ignored_exceptions=(StaleElementReferenceException,)).until(condition)


def page(driver, name):
    wait(driver, lambda d: d.find_element(By.ID, "main").get_attribute("data-page") == name)


def sign_in(driver, email, password=PASSWORD):
    driver.get(BASE + "/console/")
    page(driver, "login")
    driver.find_element(By.ID, "email").send_keys(email)
    # The keyboard submits the form: Enter in the password field.
    driver.find_element(By.ID, "password").send_keys(password + Keys.ENTER)


def visit(driver, tenant, link, name):
    """Signs the tenant's admin in and opens a page from the navigation."""
    sign_in(driver, tenant["email"])
    page(driver, "overview")
    driver.find_element(By.LINK_TEXT, link).click()
    page(driver, name)


def shot(driver, name):
    os.makedirs(SHOTS, exist_ok=True)
    path = os.path.join(SHOTS, f"{name}.png")
    # The whole page, not only what the window shows.
    height = driver.execute_script(
        "return document.documentElement.scrollHeight + window.outerHeight - window.innerHeight")
    driver.set_window_size(1280, max(900, min(height, 6000)))
    driver.execute_script("window.scrollTo(0, 0)")
    driver.save_screenshot(path)
    driver.set_window_size(1280, 900)
    print(f"  screenshot {path}")


@flow
def signing_in_and_out(driver, tenant):
    """A wrong password is refused on the page; the right one opens the overview; signing out ends it."""
    sign_in(driver, tenant["email"], "not the password")
    alert = wait(driver, ready.visibility_of_element_located((By.CSS_SELECTOR, "[role=alert]")))
    wait(driver, lambda d: alert.text.strip() != "")
    assert driver.find_element(By.ID, "main").get_attribute("data-page") == "login"
    # Before signing in there is nothing to navigate to, nor to sign out of.
    assert not driver.find_element(By.ID, "nav").is_displayed(), "the navigation shows before signing in"
    assert not driver.find_element(By.ID, "logout").is_displayed(), "sign out shows before signing in"
    shot(driver, "login")
    driver.find_element(By.ID, "password").clear()
    driver.find_element(By.ID, "password").send_keys(PASSWORD + Keys.ENTER)
    page(driver, "overview")
    assert driver.find_element(By.ID, "nav").is_displayed()
    driver.find_element(By.ID, "logout").click()
    page(driver, "login")
    assert not driver.find_element(By.ID, "nav").is_displayed(), "the navigation shows after signing out"
    driver.get(BASE + "/console/#/keys")
    page(driver, "login")


@flow
def overview(driver, tenant):
    """The tenant's name and the budget gauge with its soft limit."""
    sign_in(driver, tenant["email"])
    page(driver, "overview")
    heading = wait(driver, ready.visibility_of_element_located((By.ID, "tenant-heading")))
    assert heading.text == tenant["name"], heading.text
    gauge = driver.find_element(By.CSS_SELECTOR, "svg.gauge[role=img]")
    assert "soft limit" in gauge.get_attribute("aria-label"), gauge.get_attribute("aria-label")
    assert driver.find_element(By.CSS_SELECTOR, "nav a[aria-current=page]").text == "Overview"
    shot(driver, "overview")


@flow
def keys(driver, tenant):
    """A key is created with one scope, its token shown once and working; then it is revoked."""
    visit(driver, tenant, "API keys", "keys")
    driver.find_element(By.ID, "key-name").send_keys("console key")
    driver.find_element(By.CSS_SELECTOR, "input[name=scopes][value='tenant:read']").click()
    driver.find_element(By.CSS_SELECTOR, "form button[type=submit]").click()
    token = wait(driver, ready.visibility_of_element_located((By.ID, "new-token"))).text
    assert api("GET", "/v1/tenant", token=token)["slug"] == tenant["slug"], "the new key does not work"
    row = wait(driver, lambda d: next((r for r in d.find_elements(By.CSS_SELECTOR, "tr[data-key]")
                                       if "console key" in r.text), None))
    assert "tenant:read" in row.text and "revoked" not in row.text, row.text
    shot(driver, "keys")
    row.find_element(By.CSS_SELECTOR, "button.danger").click()
    wait(driver, ready.alert_is_present()).accept()
    # The list shows live keys only: the revoked one leaves it.
    wait(driver, lambda d: all("console key" not in r.text for r in d.find_elements(By.CSS_SELECTOR, "tr[data-key]")))
    try:
        api("GET", "/v1/tenant", token=token)
        raise AssertionError("a revoked key still works")
    except urllib.error.HTTPError as error:
        assert error.code == 401, error.code


@flow
def budget_and_limits(driver, tenant):
    """The budget and the rate are changed on the page and hold in the API; a budget over the operator's
    cap is refused on the page, naming why; the audit log then lists both changes."""
    visit(driver, tenant, "Budget and limits", "limits")
    limit = driver.find_element(By.ID, "budget-limit")
    limit.clear()
    limit.send_keys("50000")
    soft = driver.find_element(By.ID, "budget-soft")
    soft.clear()
    soft.send_keys("50")
    driver.find_element(By.XPATH, "//button[text()='Save budget']").click()
    wait(driver, lambda d: "Saved" in d.find_element(By.CSS_SELECTOR, "form[aria-labelledby=budget-form-heading] [role=status]").text)
    rate = driver.find_element(By.ID, "limits-rate")
    rate.clear()
    rate.send_keys("120")
    driver.find_element(By.XPATH, "//button[text()='Save rate']").click()
    wait(driver, lambda d: "Saved" in d.find_element(By.CSS_SELECTOR, "form[aria-labelledby=limits-form-heading] [role=status]").text)
    token = api("POST", "/v1/auth/login", {"email": tenant["email"], "password": PASSWORD})["access_token"]
    budget = api("GET", "/v1/budget", token=token)
    assert (budget["token_limit"], budget["soft_limit_percent"]) == (50000, 50), budget
    assert api("GET", "/v1/limits", token=token)["requests_per_minute"] == 120
    assert "requests left" in driver.find_element(By.ID, "headroom").text
    shot(driver, "limits")

    # Over the operator's cap: refused, and the page says why.
    limit.clear()
    limit.send_keys(str(budget["max_token_limit"] + 1))
    driver.execute_script("arguments[0].removeAttribute('max')", limit)  # past the browser's own check
    driver.find_element(By.XPATH, "//button[text()='Save budget']").click()
    alert = driver.find_element(By.CSS_SELECTOR, "form[aria-labelledby=budget-form-heading] [role=alert]")
    wait(driver, lambda d: alert.text.strip() != "")
    assert api("GET", "/v1/budget", token=token)["token_limit"] == 50000

    driver.find_element(By.LINK_TEXT, "Audit log").click()
    page(driver, "audit")
    actions = wait(driver, lambda d: [cell.text for cell in d.find_elements(By.CSS_SELECTOR, "td.action")] or None)
    assert "budget.update" in actions and "limits.update" in actions, actions
    shot(driver, "audit")


def push(url, secret, repository="acme/api"):
    """A signed push of one commit to the hook URL, as GitHub sends it."""
    sha = hashlib.sha1(os.urandom(8)).hexdigest()
    body = json.dumps({"ref": "refs/heads/main", "after": sha, "repository": {"full_name": repository},
                       "commits": [{"id": sha, "message": "Rework the cache; I will add tests by Friday.",
                                    "timestamp": "2026-11-20T16:04:05+01:00",
                                    "author": {"name": "Ada", "email": "ada@acme.test"},
                                    "added": [], "removed": [], "modified": ["cache.swift"]}]}).encode()
    signature = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    request = urllib.request.Request(url, data=body, method="POST", headers={
        "Content-Type": "application/json", "X-GitHub-Event": "push",
        "X-GitHub-Delivery": str(random.randrange(10**12)), "X-Hub-Signature-256": signature})
    with urllib.request.urlopen(request) as response:
        assert response.status == 202, response.status


def rows(driver, kind):
    return driver.find_elements(By.CSS_SELECTOR, f"tr[data-{kind}]")


@flow
def webhooks(driver, tenant):
    """An endpoint is added (its URL and secret shown once, and they work for a signed push); the delivery
    and its jobs are listed and filtered by status; a replay while its jobs still wait (no worker runs
    here) is refused on the page with the API's reason."""
    visit(driver, tenant, "Webhooks", "webhooks")
    driver.find_element(By.ID, "endpoint-repositories").send_keys("acme/api")
    driver.find_element(By.XPATH, "//button[text()='Add endpoint']").click()
    url = wait(driver, ready.visibility_of_element_located((By.ID, "endpoint-url"))).text
    secret = driver.find_element(By.ID, "endpoint-secret").text
    assert url.startswith(BASE + "/v1/hooks/github/"), url
    push(url, secret)
    wait(driver, lambda d: len(rows(d, "endpoint")) == 1)

    # The lists are read again when a filter changes.
    Select(driver.find_element(By.ID, "job-status")).select_by_value("queued")
    wait(driver, lambda d: len(rows(d, "delivery")) == 1 and len(rows(d, "job")) == 3)
    assert "acme/api" in rows(driver, "delivery")[0].text
    shot(driver, "webhooks")

    rows(driver, "delivery")[0].find_element(By.XPATH, ".//button[text()='Replay']").click()
    refusal = wait(driver, ready.visibility_of_element_located((By.CSS_SELECTOR, "[aria-live] [role=alert]")))
    assert "still queued or running" in refusal.text, refusal.text
    assert len(rows(driver, "job")) == 3
    Select(driver.find_element(By.ID, "job-status")).select_by_value("dead")
    wait(driver, lambda d: len(rows(d, "job")) == 0)
    Select(driver.find_element(By.ID, "delivery-status")).select_by_value("ignored")
    wait(driver, lambda d: len(rows(d, "delivery")) == 0)


@flow
def members(driver, tenant):
    """A person is invited (the token shown once), accepts it on the console with a password of their own
    and is signed in, becomes an admin from the page, and is removed; a second invitation is revoked from
    the page."""
    visit(driver, tenant, "Members", "members")
    email = f"m{random.randrange(10**9)}@example.test"
    driver.find_element(By.ID, "invite-email").send_keys(email)
    driver.find_element(By.XPATH, "//button[text()='Invite']").click()
    token = wait(driver, ready.visibility_of_element_located((By.ID, "invitation-token"))).text

    # The invitee accepts on the console (from the sign-in page's link) and is signed in.
    driver.find_element(By.ID, "logout").click()
    page(driver, "login")
    driver.find_element(By.LINK_TEXT, "Accept an invitation").click()
    page(driver, "accept")
    driver.find_element(By.ID, "invitation").send_keys(token)
    driver.find_element(By.ID, "new-password").send_keys("a password of their own" + Keys.ENTER)
    page(driver, "overview")
    assert driver.current_url.endswith("#/overview"), driver.current_url
    assert wait(driver, ready.visibility_of_element_located((By.ID, "tenant-heading"))).text == tenant["name"]
    driver.find_element(By.ID, "logout").click()
    page(driver, "login")
    visit(driver, tenant, "Members", "members")
    row = wait(driver, lambda d: next((r for r in rows(d, "member") if email in r.text), None))
    Select(row.find_element(By.TAG_NAME, "select")).select_by_value("admin")
    wait(driver, lambda d: f"{email} is now admin" in d.find_element(By.CSS_SELECTOR, "[aria-live] [role=status]").text)
    owner = api("POST", "/v1/auth/login", {"email": tenant["email"], "password": PASSWORD})["access_token"]
    roles = {member["email"]: member["role"] for member in api("GET", "/v1/users", token=owner)["items"]}
    assert roles.get(email) == "admin", roles
    shot(driver, "members")

    row = wait(driver, lambda d: next((r for r in rows(d, "member") if email in r.text), None))
    row.find_element(By.CSS_SELECTOR, "button.danger").click()
    wait(driver, ready.alert_is_present()).accept()
    wait(driver, lambda d: all(email not in r.text for r in rows(d, "member")))
    assert email not in {member["email"] for member in api("GET", "/v1/users", token=owner)["items"]}

    other = f"o{random.randrange(10**9)}@example.test"
    driver.find_element(By.ID, "invite-email").send_keys(other)
    driver.find_element(By.XPATH, "//button[text()='Invite']").click()
    wait(driver, lambda d: any(other in r.text and "pending" in r.text for r in rows(d, "invitation")))
    invitation = next(r for r in rows(driver, "invitation") if other in r.text)
    invitation.find_element(By.CSS_SELECTOR, "button.danger").click()
    wait(driver, lambda d: any(other in r.text and "revoked" in r.text for r in rows(d, "invitation")))


def refused(call):
    try:
        call()
    except urllib.error.HTTPError as error:
        return error.code
    return None


@flow
def operator(driver, tenant):
    """The operator's token opens the operator's pages only; a tenant is suspended (its admin is refused)
    and reactivated from the page, its caps set from the page hold in the API, and health shows Postgres
    up."""
    token = os.environ["CP_CONSOLE_OPERATOR_TOKEN"]
    driver.get(BASE + "/console/")
    page(driver, "login")
    driver.find_element(By.ID, "operator-token").send_keys(token + Keys.ENTER)
    page(driver, "tenants")
    visible = [link.text for link in driver.find_elements(By.CSS_SELECTOR, "nav a") if link.is_displayed()]
    assert visible == ["Tenants", "Health"], visible
    login = lambda: api("POST", "/v1/auth/login", {"email": tenant["email"], "password": PASSWORD})

    def row():
        return wait(driver, lambda d: next((r for r in rows(d, "tenant") if tenant["slug"] in r.text), None))

    row().find_element(By.XPATH, ".//button[text()='Suspend']").click()
    wait(driver, lambda d: "suspended" in row().find_element(By.CSS_SELECTOR, "td.status").text)
    assert refused(login) in (401, 403), "a suspended tenant's admin signed in"
    row().find_element(By.XPATH, ".//button[text()='Reactivate']").click()
    wait(driver, lambda d: "active" == row().find_element(By.CSS_SELECTOR, "td.status").text)
    admin = login()["access_token"]

    row().find_element(By.XPATH, ".//button[text()='Caps']").click()
    for field, value in (("cap-rate", "300"), ("cap-burst", "50"), ("cap-tokens", "2000000")):
        driver.find_element(By.ID, field).send_keys(value)
    driver.find_element(By.XPATH, "//button[text()='Save caps']").click()
    wait(driver, lambda d: "budgets of 2000000 tokens" in d.find_element(By.CSS_SELECTOR, "[aria-live] [role=status]").text)
    limits = api("GET", "/v1/limits", token=admin)
    assert (limits["max_requests_per_minute"], limits["max_burst"]) == (300, 50), limits
    assert api("GET", "/v1/budget", token=admin)["max_token_limit"] == 2000000
    shot(driver, "tenants")

    driver.find_element(By.LINK_TEXT, "Health").click()
    page(driver, "health")
    assert "Overall:" in driver.find_element(By.ID, "health-status").text
    postgres = driver.find_element(By.CSS_SELECTOR, "tr[data-component=postgres] td.status").text
    assert postgres == "up", postgres
    shot(driver, "health")


@flow
def policy(driver, tenant):
    """The policy is edited as JSON and saved as the next version; a document that is not JSON, or that the
    API refuses, is shown at the field and changes nothing; the older version is compared line by line and
    rolled back (it becomes the next version)."""
    visit(driver, tenant, "Policy", "policy")
    status = driver.find_element(By.ID, "policy-status")
    assert status.text.startswith("Version 0 in force"), status.text
    editor = driver.find_element(By.ID, "policy-document")
    document = json.loads(editor.get_attribute("value"))
    assert document["max_tokens_per_request"] == 4096, document

    def submit(text):
        editor.clear()
        editor.send_keys(text)
        driver.find_element(By.XPATH, "//button[text()='Save as a new version']").click()

    document["max_tokens_per_request"] = 2048
    submit(json.dumps(document))
    wait(driver, lambda d: d.find_element(By.ID, "policy-status").text == "Saved as version 1.")
    error = driver.find_element(By.ID, "policy-error")
    for text, expected in (("{", "Not JSON"), ('{"routes": {"default": []}}', "Missing field")):
        submit(text)
        wait(driver, lambda d: expected in error.text)
        assert editor.get_attribute("aria-invalid") == "true"
    admin = api("POST", "/v1/auth/login", {"email": tenant["email"], "password": PASSWORD})["access_token"]
    assert api("GET", "/v1/policy", token=admin)["version"] == 1

    diff = wait(driver, lambda d: d.find_element(By.ID, "policy-diff").text or None)
    assert "- " in diff and '"max_tokens_per_request": 4096' in diff and '"max_tokens_per_request": 2048' in diff, diff
    shot(driver, "policy")
    driver.find_element(By.XPATH, "//button[text()='Roll back to version 0']").click()
    wait(driver, lambda d: d.find_element(By.ID, "policy-status").text == "Version 0 is back, as version 2.")
    back = api("GET", "/v1/policy", token=admin)
    assert (back["version"], back["policy"]["max_tokens_per_request"]) == (2, 4096), back


def main():
    failures = 0
    for function in FLOWS:
        slug = f"console-{random.randrange(10**9)}"
        tenant = {"slug": slug, "email": f"{slug}@example.test", "name": f"Console {slug}"}
        api("POST", "/v1/signup", {"organization_name": tenant["name"], "slug": slug,
                                   "admin_email": tenant["email"], "admin_password": PASSWORD})
        driver = browser()
        try:
            function(driver, tenant)
            # Refused calls (a 401 for a wrong password) are the API's answers, not faults of the page.
            problems = [entry for entry in driver.get_log("browser")
                        if entry["level"] == "SEVERE" and entry.get("source") != "network"]
            assert not problems, f"the browser logged errors: {problems}"
            print(f"console flow passed: {function.__name__}")
        except Exception as error:  # every failure is reported with its flow, then the run fails
            failures += 1
            steps = [f"line {frame.lineno}: {frame.line}" for frame in traceback.extract_tb(error.__traceback__)
                     if frame.filename == __file__ and frame.name not in ("main", "wait")]
            print(f"console flow FAILED: {function.__name__} ({'; '.join(steps)}): {error!r}", file=sys.stderr)
            shot(driver, f"failed-{function.__name__}")
        finally:
            driver.quit()
    print(f"console: {len(FLOWS) - failures} of {len(FLOWS)} browser flows passed")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
