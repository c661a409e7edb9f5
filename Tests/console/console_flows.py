"""The admin console in a real browser (Debian's headless Chromium, driven by Selenium through
chromedriver) against the live server: each page's main flow end to end, a screenshot of each page, and
no Content-Security-Policy violation or script error logged by the browser (failed network calls are the
API's own answers and are not counted). Exits non-zero (naming the
flow) on the first failure.

    console_flows.py BASE_URL SCREENSHOT_DIR

CP_CONSOLE_OPERATOR_TOKEN holds an operator token (`controlplane operator-token`) for the operator's flow,
CP_CONSOLE_GITHUB the address of the fake GitHub (fake_github.py) the server signs in with;
CP_CONSOLE_FLOWS (names, comma-separated) runs only those flows. A worker must be running (the analyses and
interventions flows wait for it), and CP_MIGRATION_DATABASE_URL must reach the database (a watched promise
is made to come due).
"""

import hashlib
import hmac
import json
import os
import random
import subprocess
import sys
import time
import traceback
import urllib.request

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By
from selenium.common.exceptions import StaleElementReferenceException
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support import expected_conditions as ready
from selenium.webdriver.support.select import Select
from selenium.webdriver.support.ui import WebDriverWait

BASE, SHOTS = sys.argv[1], sys.argv[2]
PASSWORD = "correct horse battery"
PIPELINES = ["commitments", "security_review", "change_summary"]
FLOWS = []


def api(method, path, body=None, token=None):
    request = urllib.request.Request(BASE + path, method=method, data=json.dumps(body).encode() if body else None,
                                     headers={"Content-Type": "application/json"})
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    with urllib.request.urlopen(request) as response:
        text = response.read()
        return json.loads(text) if text else None


def admin_token(tenant):
    """An access token of the tenant's admin, signed in through the API."""
    return api("POST", "/v1/auth/login", {"email": tenant["email"], "password": PASSWORD})["access_token"]


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


UNLABELLED = """
return [...document.querySelectorAll('input:not([type=hidden]), select, textarea, button')]
  .filter((field) => field.offsetParent !== null)
  .filter((field) => !(field.labels && field.labels.length) && !field.getAttribute('aria-label')
    && !field.getAttribute('aria-labelledby') && !(field.tagName === 'BUTTON' && field.textContent.trim()))
  .map((field) => field.outerHTML.slice(0, 120));
"""


def shot(driver, name):
    """Saves a screenshot of the whole page, once every field and button shown has a name a screen reader
    reads (a label, aria-label or aria-labelledby; a button's text)."""
    unlabelled = driver.execute_script(UNLABELLED)
    assert not unlabelled, f"fields without a label on {name}: {unlabelled}"
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
def github_sign_in(driver, tenant):
    """Signing in with GitHub from the sign-in page: GitHub (the local fake) sends the browser back, the
    callback sends it on to the console, which finishes the sign-in; the code and state leave the address.
    An account GitHub vouches for that no one here has is refused on the page."""
    fake = os.environ["CP_CONSOLE_GITHUB"]

    def as_github(email):
        urllib.request.urlopen(urllib.request.Request(fake + "/_account", method="POST",
                                                      data=json.dumps({"email": email}).encode()))

    as_github(f"nobody-{random.randrange(10**9)}@example.test")
    driver.get(BASE + "/console/")
    page(driver, "login")
    wait(driver, ready.element_to_be_clickable((By.ID, "github-sign-in"))).click()
    page(driver, "github")
    alert = wait(driver, ready.visibility_of_element_located((By.CSS_SELECTOR, "[role=alert]")))
    wait(driver, lambda d: alert.text.strip() != "")
    assert not driver.find_element(By.ID, "nav").is_displayed()
    assert "code=" not in driver.current_url and "state=" not in driver.current_url, driver.current_url

    as_github(tenant["email"].upper())
    driver.find_element(By.LINK_TEXT, "Back to sign in").click()
    page(driver, "login")
    driver.find_element(By.ID, "github-sign-in").click()
    page(driver, "overview")
    assert driver.current_url == BASE + "/console/#/overview", driver.current_url
    assert wait(driver, ready.visibility_of_element_located((By.ID, "tenant-heading"))).text == tenant["name"]
    driver.back()
    assert "code=" not in driver.current_url, driver.current_url


@flow
def overview(driver, tenant):
    """The tenant's name, the budget gauge with its soft limit, the rate limit's headroom, and the day's
    gateway calls charted (tokens and cost) and totalled by provider and model."""
    sign_in(driver, tenant["email"])
    page(driver, "overview")
    assert "No calls yet." in driver.find_element(By.CSS_SELECTOR, "[aria-labelledby=usage-heading]").text
    token = admin_token(tenant)
    tokens = 0
    for _ in range(2):
        answer = api("POST", "/v1/llm/chat/completions", {"model": "mock/mock-1", "max_tokens": 32,
                                                      "messages": [{"role": "user", "content": "Hello there"}]}, token)
        tokens += answer["usage"]["total_tokens"]
    driver.refresh()
    sign_in(driver, tenant["email"])
    page(driver, "overview")
    heading = wait(driver, ready.visibility_of_element_located((By.ID, "tenant-heading")))
    assert heading.text == tenant["name"], heading.text
    gauge = driver.find_element(By.CSS_SELECTOR, "svg.gauge[role=img]")
    assert "soft limit" in gauge.get_attribute("aria-label"), gauge.get_attribute("aria-label")
    assert driver.find_element(By.CSS_SELECTOR, "nav a[aria-current=page]").text == "Overview"
    assert "requests left in the current minute" in driver.find_element(By.ID, "headroom").text
    chart = driver.find_element(By.ID, "usage-tokens")
    assert f"{tokens:,} over 30 days" in chart.get_attribute("aria-label"), (tokens, chart.get_attribute("aria-label"))
    bars = chart.find_elements(By.CSS_SELECTOR, "rect[data-day]")
    assert len(bars) == 1 and "mock/mock-1" in bars[0].find_element(By.TAG_NAME, "title").get_attribute("textContent")
    assert driver.find_elements(By.CSS_SELECTOR, "#usage-cost rect[data-day]"), "no cost bar"
    cells = [cell.text for cell in driver.find_element(By.CSS_SELECTOR, "tr[data-usage='mock/mock-1']").find_elements(By.TAG_NAME, "td")]
    assert cells[0] == "2" and cells[2] == f"{tokens:,}", cells
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


def tab_to(driver, describe, accept, most=60):
    """Presses Tab until the focused element passes `accept`; fails after `most` presses."""
    for _ in range(most):
        ActionChains(driver).send_keys(Keys.TAB).perform()
        if accept(driver.switch_to.active_element):
            return driver.switch_to.active_element
    raise AssertionError(f"Tab never reached {describe}")


@flow
def keyboard(driver, tenant):
    """The keyboard alone: sign in, skip to the content, open a page from the navigation, and make a key
    (name typed, a scope ticked with Space, the form submitted with Enter); focus is visible."""
    driver.get(BASE + "/console/")
    page(driver, "login")
    focused = driver.switch_to.active_element
    assert focused.get_attribute("id") == "email", "the sign-in page focuses the email field"
    ActionChains(driver).send_keys(tenant["email"], Keys.TAB, PASSWORD, Keys.ENTER).perform()
    page(driver, "overview")
    driver.find_element(By.TAG_NAME, "body").click()
    driver.execute_script("document.activeElement.blur(); window.scrollTo(0, 0)")
    skip = tab_to(driver, "the skip link", lambda e: e.text == "Skip to content")
    assert skip.location["x"] >= 0, "the skip link shows when focused"
    link = tab_to(driver, "the API keys link", lambda e: e.text == "API keys")
    assert link.value_of_css_property("outline-style") != "none", "focus is visible on links"
    ActionChains(driver).send_keys(Keys.ENTER).perform()
    page(driver, "keys")
    tab_to(driver, "the key name field", lambda e: e.get_attribute("id") == "key-name")
    ActionChains(driver).send_keys("keyboard key").perform()
    tab_to(driver, "the llm:invoke scope", lambda e: e.get_attribute("value") == "llm:invoke")
    ActionChains(driver).send_keys(Keys.SPACE).perform()
    tab_to(driver, "the create button", lambda e: e.text == "Create key")
    ActionChains(driver).send_keys(Keys.ENTER).perform()
    token = wait(driver, ready.visibility_of_element_located((By.ID, "new-token"))).text
    keys = api("GET", "/v1/keys", token=admin_token(tenant))["items"]
    made = next(key for key in keys if key["name"] == "keyboard key")
    assert made["scopes"] == ["llm:invoke"], made
    # The token is real (not 401) and holds only the scope ticked (403 for the tenant's details).
    assert refused(lambda: api("GET", "/v1/tenant", token=token)) == 403


@flow
def paging(driver, tenant):
    """A list longer than a page shows 50 rows and "Load more", which adds the rest (keys here; every list
    of the console pages the same way)."""
    token = admin_token(tenant)
    for number in range(55):
        api("POST", "/v1/keys", {"name": f"bulk {number:02d}", "scopes": ["tenant:read"]}, token)
    visit(driver, tenant, "API keys", "keys")
    wait(driver, lambda d: len(rows(d, "key")) == 50)
    more = driver.find_element(By.XPATH, "//button[text()='Load more']")
    more.click()
    wait(driver, lambda d: len(rows(d, "key")) == 56)  # the 55 and the key signup made
    assert not more.is_displayed(), "Load more shows with nothing left"
    names = {row.find_element(By.TAG_NAME, "td").text for row in rows(driver, "key")}
    assert {f"bulk {number:02d}" for number in range(55)} <= names, sorted(names)


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
    token = admin_token(tenant)
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
    # The API names the field (`/token_limit`), and the page shows the refusal there.
    assert limit.get_attribute("aria-invalid") == "true"
    note = driver.find_element(By.ID, limit.get_attribute("aria-describedby"))
    assert "the operator's cap" in note.text, note.text
    assert api("GET", "/v1/budget", token=token)["token_limit"] == 50000

    driver.find_element(By.LINK_TEXT, "Audit log").click()
    page(driver, "audit")
    actions = wait(driver, lambda d: [cell.text for cell in d.find_elements(By.CSS_SELECTOR, "td.action")] or None)
    assert "budget.update" in actions and "limits.update" in actions, actions
    shot(driver, "audit")


def push(url, secret, repository="acme/api", message="Rework the cache; I will add tests by Friday.",
         timestamp="2026-11-20T16:04:05+01:00"):
    """A signed push of one commit to the hook URL, as GitHub sends it; answers the commit's sha."""
    sha = hashlib.sha1(os.urandom(8)).hexdigest()
    body = json.dumps({"ref": "refs/heads/main", "after": sha, "repository": {"full_name": repository},
                       "commits": [{"id": sha, "message": message, "timestamp": timestamp,
                                    "author": {"name": "Ada", "email": "ada@acme.test"},
                                    "added": [], "removed": [], "modified": ["cache.swift"]}]}).encode()
    signature = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    request = urllib.request.Request(url, data=body, method="POST", headers={
        "Content-Type": "application/json", "X-GitHub-Event": "push",
        "X-GitHub-Delivery": str(random.randrange(10**12)), "X-Hub-Signature-256": signature})
    with urllib.request.urlopen(request) as response:
        assert response.status == 202, response.status
    return sha


def until(probe, seconds=30):
    """Polls `probe` (an API read) until it answers something true; fails after `seconds`."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        answer = probe()
        if answer:
            return answer
        time.sleep(0.25)
    raise AssertionError(f"nothing after {seconds} s: {probe.__doc__ or probe}")


def analysed_push(tenant, token, repository, message, timestamp):
    """An endpoint made through the API, a push to it, and its three analyses, made by the worker."""
    endpoint = api("POST", "/v1/webhooks", {"provider": "github", "pipelines": PIPELINES}, token)
    sha = push(BASE + endpoint["url"], endpoint["secret"], repository, message, timestamp)
    until(lambda: len(api("GET", f"/v1/analyses?sha={sha}", token=token)["items"]) == 3)
    return sha


def rows(driver, kind):
    return driver.find_elements(By.CSS_SELECTOR, f"tr[data-{kind}]")


def press(driver, kind, button, containing=""):
    """Clicks `button` in the first `kind` row containing the text, once the list holds one (a list
    redrawn meanwhile is read again)."""
    def attempt(d):
        row = next((r for r in rows(d, kind) if containing in r.text), None)
        if row is None:
            return False
        row.find_element(By.XPATH, f".//button[text()='{button}']").click()
        return True
    wait(driver, attempt)


@flow
def webhooks(driver, tenant):
    """An endpoint is added (its URL and secret shown once, and they work for a signed push); the delivery
    and its jobs are listed and filtered by status as the worker runs them; the delivery is replayed from
    the page, which makes its three jobs again."""
    visit(driver, tenant, "Webhooks", "webhooks")
    driver.find_element(By.ID, "endpoint-repositories").send_keys("acme/api")
    driver.find_element(By.XPATH, "//button[text()='Add endpoint']").click()
    url = wait(driver, ready.visibility_of_element_located((By.ID, "endpoint-url"))).text
    secret = driver.find_element(By.ID, "endpoint-secret").text
    assert url.startswith(BASE + "/v1/hooks/github/"), url
    push(url, secret)
    wait(driver, lambda d: len(rows(d, "endpoint")) == 1)
    token = admin_token(tenant)
    until(lambda: len(api("GET", "/v1/jobs?status=succeeded", token=token)["items"]) == 3)

    # The lists are read again when a filter changes.
    Select(driver.find_element(By.ID, "job-status")).select_by_value("succeeded")
    wait(driver, lambda d: len(rows(d, "delivery")) == 1 and len(rows(d, "job")) == 3)
    assert "acme/api" in rows(driver, "delivery")[0].text
    shot(driver, "webhooks")
    Select(driver.find_element(By.ID, "job-status")).select_by_value("dead")
    wait(driver, lambda d: len(rows(d, "job")) == 0)
    Select(driver.find_element(By.ID, "delivery-status")).select_by_value("ignored")
    wait(driver, lambda d: len(rows(d, "delivery")) == 0)

    Select(driver.find_element(By.ID, "delivery-status")).select_by_value("")
    Select(driver.find_element(By.ID, "job-status")).select_by_value("")
    press(driver, "delivery", "Replay")
    status = wait(driver, ready.visibility_of_element_located((By.CSS_SELECTOR, "[aria-live] [role=status]")))
    assert status.text == "Replayed: 3 new job(s).", status.text
    wait(driver, lambda d: len(rows(d, "job")) == 6)
    until(lambda: len(api("GET", "/v1/jobs?status=succeeded", token=token)["items"]) == 6)


@flow
def analyses(driver, tenant):
    """A push's three analyses are listed, filtered by pipeline and author, and opened: the commitment it
    found, with its owner and due day, and the change summary's note."""
    token = admin_token(tenant)
    sha = analysed_push(tenant, token, "acme/api", "Rework the cache\n\nI'll add tests by Friday.",
                        "2026-11-20T16:04:05+01:00")
    visit(driver, tenant, "Analyses", "analyses")
    wait(driver, lambda d: len(rows(d, "analysis")) == 3)
    Select(driver.find_element(By.ID, "analysis-pipeline")).select_by_value("commitments")
    driver.find_element(By.ID, "analysis-author").send_keys("ADA@acme.test" + Keys.ENTER)
    wait(driver, lambda d: len(rows(d, "analysis")) == 1 and "commitments" in rows(d, "analysis")[0].text)
    rows(driver, "analysis")[0].find_element(By.XPATH, ".//button[text()='Open']").click()
    detail = wait(driver, ready.visibility_of_element_located((By.ID, "analysis-detail")))
    assert sha[:10] in detail.find_element(By.ID, "analysis-heading").text
    commitment = detail.find_element(By.CSS_SELECTOR, "tr[data-commitment]").text
    assert "add tests by Friday" in commitment and "ada@acme.test" in commitment and "2026-11-20" in commitment, commitment
    shot(driver, "analyses")

    Select(driver.find_element(By.ID, "analysis-pipeline")).select_by_value("change_summary")
    driver.find_element(By.XPATH, "//button[text()='Filter']").click()
    wait(driver, lambda d: len(rows(d, "analysis")) == 1 and "change_summary" in rows(d, "analysis")[0].text)
    rows(driver, "analysis")[0].find_element(By.XPATH, ".//button[text()='Open']").click()
    wait(driver, lambda d: "Rework the cache" in d.find_element(By.ID, "analysis-detail").text)
    driver.find_element(By.ID, "analysis-repository").send_keys("acme/other" + Keys.ENTER)
    wait(driver, lambda d: not rows(d, "analysis") and "No analyses." in d.find_element(By.ID, "main").text)


def come_due(repository):
    """The day passes for the promises watched in `repository`: their next check is now. (The scheduler
    waits for the end of the due day in the author's time zone; a test cannot wait that long.)"""
    subprocess.run(["psql", os.environ["CP_MIGRATION_DATABASE_URL"], "-X", "-q", "-v", "ON_ERROR_STOP=1", "-c",
                    "SET app.maintenance = 'on'; UPDATE interventions SET next_check_at = now() "
                    f"WHERE status = 'watching' AND repository = '{repository}'"], check=True)


@flow
def interventions(driver, tenant):
    """A promise in a pushed commit comes due and the worker makes an intervention (its message written on
    the mock provider); it is listed, accepted from the page, and the acceptance rate shows it."""
    token = admin_token(tenant)
    repository = f"acme/promises-{random.randrange(10**9)}"
    today = time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime())
    analysed_push(tenant, token, repository, "Quarantine the flaky test\n\nI'll fix the flaky test by Friday.", today)
    visit(driver, tenant, "Interventions", "interventions")
    assert "none answered yet" in driver.find_element(By.ID, "acceptance-rate").text
    come_due(repository)
    made = until(lambda: api("GET", "/v1/interventions?status=open", token=token)["items"])
    assert made[0]["message"], made

    Select(driver.find_element(By.ID, "intervention-status")).select_by_value("open")
    row = wait(driver, lambda d: next(iter(rows(d, "intervention")), None))
    assert "fix the flaky test" in row.text and "ada@acme.test" in row.text, row.text
    shot(driver, "interventions")
    row.find_element(By.XPATH, ".//button[text()='Accept']").click()
    wait(driver, lambda d: d.find_element(By.CSS_SELECTOR, "[aria-live] [role=status]").text == "Marked accepted.")
    wait(driver, lambda d: len(rows(d, "intervention")) == 0)
    assert "Acceptance rate: 100%" in driver.find_element(By.ID, "acceptance-rate").text
    answered = api("GET", "/v1/interventions?status=accepted", token=token)["items"]
    assert [item["id"] for item in answered] == [made[0]["id"]], answered

    # The settings: tone, delay and a Slack webhook saved from the page; the webhook is never shown back.
    Select(driver.find_element(By.ID, "settings-tone")).select_by_value("formal")
    delay = driver.find_element(By.ID, "settings-delay")
    delay.clear()
    delay.send_keys("6")
    slack = "https://hooks.slack.test/services/T0/B0/console"
    driver.find_element(By.ID, "settings-slack").send_keys(slack)
    driver.find_element(By.XPATH, "//button[text()='Save settings']").click()
    wait(driver, lambda d: d.find_element(By.ID, "settings-status").text == "Saved: on, formal, the manager after 6 hours.")
    assert driver.find_element(By.ID, "slack-state").text == "A Slack webhook is set."
    assert driver.find_element(By.ID, "settings-slack").get_attribute("value") == ""
    settings = api("GET", "/v1/interventions/settings", token=token)
    assert (settings["tone"], settings["escalation_delay_seconds"], settings["slack_webhook_configured"]) == \
        ("formal", 21600, True), settings
    assert slack not in driver.page_source


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
    owner = admin_token(tenant)
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
    assert visible == ["Tenants", "Usage", "Health"], visible
    login = lambda: admin_token(tenant)

    def row():
        return wait(driver, lambda d: next((r for r in rows(d, "tenant") if tenant["slug"] in r.text), None))

    row().find_element(By.XPATH, ".//button[text()='Suspend']").click()
    wait(driver, lambda d: "suspended" in row().find_element(By.CSS_SELECTOR, "td.status").text)
    assert refused(login) in (401, 403), "a suspended tenant's admin signed in"
    row().find_element(By.XPATH, ".//button[text()='Reactivate']").click()
    wait(driver, lambda d: "active" == row().find_element(By.CSS_SELECTOR, "td.status").text)
    admin = login()

    row().find_element(By.XPATH, ".//button[text()='Caps']").click()
    for field, value in (("cap-rate", "300"), ("cap-burst", "50"), ("cap-tokens", "2000000")):
        driver.find_element(By.ID, field).send_keys(value)
    driver.find_element(By.XPATH, "//button[text()='Save caps']").click()
    wait(driver, lambda d: "budgets of 2000000 tokens" in d.find_element(By.CSS_SELECTOR, "[aria-live] [role=status]").text)
    limits = api("GET", "/v1/limits", token=admin)
    assert (limits["max_requests_per_minute"], limits["max_burst"]) == (300, 50), limits
    assert api("GET", "/v1/budget", token=admin)["max_token_limit"] == 2000000
    shot(driver, "tenants")

    # The tenant's usage, from its row, then every tenant's.
    answer = api("POST", "/v1/llm/chat/completions", {"model": "mock/mock-1", "max_tokens": 16,
                                                      "messages": [{"role": "user", "content": "Hello"}]}, admin)
    row().find_element(By.LINK_TEXT, "Usage").click()
    page(driver, "usage")
    assert driver.find_element(By.ID, "usage-heading").text == f"Usage of {tenant['slug']}, last 30 days"
    cells = [cell.text for cell in driver.find_element(By.CSS_SELECTOR, "tr[data-usage='mock/mock-1']").find_elements(By.TAG_NAME, "td")]
    assert cells[0] == "1" and cells[2] == f"{answer['usage']['total_tokens']:,}", cells
    shot(driver, "usage")
    driver.find_element(By.LINK_TEXT, "All tenants").click()
    wait(driver, lambda d: d.find_element(By.ID, "usage-heading").text == "Usage of all tenants, last 30 days")
    calls = driver.find_element(By.CSS_SELECTOR, "tr[data-usage='mock/mock-1'] td").text
    assert int(calls.replace(",", "")) >= 1, calls

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
    # A refusal the API locates (a JSON Pointer in its `errors`) is shown at the field with where it is,
    # and that member's line is selected in the editor.
    wrong = json.loads(json.dumps(document))
    wrong["routes"]["default"][0]["timeout_ms"] = 10
    submit(json.dumps(wrong))
    # The notes of the refusal before are replaced by this one's.
    note = wait(driver, lambda d: next((n for n in d.find_elements(By.CSS_SELECTOR, "#policy-document ~ .field-error")
                                        if n.text.startswith("At /routes/default/0/timeout_ms: ")), None))
    assert "between 100 and 600000" in note.text, note.text
    assert note.get_attribute("id") in editor.get_attribute("aria-describedby").split(), editor.get_attribute("aria-describedby")
    selected = driver.execute_script("const e = arguments[0]; return e.value.slice(e.selectionStart, e.selectionEnd)", editor)
    assert selected.strip() == '"timeout_ms": 10', selected
    admin = admin_token(tenant)
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
    chosen = [name for name in os.environ.get("CP_CONSOLE_FLOWS", "").split(",") if name]
    flows = [function for function in FLOWS if not chosen or function.__name__ in chosen]
    for function in flows:
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
    print(f"console: {len(flows) - failures} of {len(flows)} browser flows passed")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
