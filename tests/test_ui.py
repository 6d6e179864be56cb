"""The web UI in a real browser (Debian's chromium driven by Playwright, no
browser download): log in, upload a file and watch it screen, open an alert,
dismiss it with a reason, see it suppressed on the next run, and reopened
after the list entry changes.

Screenshots of the main pages go to the test's temporary folder, or to
docs/screenshots/ with ``CLEARANCE_SCREENSHOTS=1``.
"""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import pytest

pytest.importorskip("fastapi", reason="the server's dependencies are not installed")
pytest.importorskip("playwright", reason="playwright is not installed")
import httpx  # noqa: E402

from tests.fixtures.api_server import Server, add_user, new_home, open_home, template_home

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
ROOT = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="no chromium (make test installs Debian's)")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"]

V1 = "id,name,aliases,country,schema\nzorb-1,Zorblax Heavy Industries,Zorblax HI,KP,Company\n"
V2 = "id,name,aliases,country,schema\nzorb-1,Zorblax Heavy Industries,Zorblax HI;Zorblax Group,KP,Company\n"
PASSWORD = "review-me-please-42"


@pytest.fixture(scope="module")
def site(bundled_home, tmp_path_factory):
    home = new_home(template_home(bundled_home, tmp_path_factory), tmp_path_factory.mktemp("ui-home"))
    store = open_home(home)
    v1 = home / "acme-v1.csv"
    v1.write_text(V1)
    store.import_files(v1, "acme-blocklist", captured="2026-10")
    store.engine.dispose()
    add_user(home, "rita", "reviewer", PASSWORD)
    admin_key = add_user(home, "root-admin", "admin")
    srv = Server(home).wait_ready()
    srv.admin_key = admin_key
    yield srv
    srv.stop()


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        yield browser
        browser.close()


@pytest.fixture(scope="module")
def shots(tmp_path_factory) -> Path:
    if os.environ.get("CLEARANCE_SCREENSHOTS"):
        path = ROOT / "docs" / "screenshots"
        path.mkdir(parents=True, exist_ok=True)
        return path
    return tmp_path_factory.mktemp("screenshots")


def upload_file(tmp_path: Path) -> Path:
    rows = (ROOT / "data" / "samples" / "counterparties.csv").read_text(encoding="utf-8").rstrip("\n").splitlines()
    rows.append("C900,Zorblax Heavy Industries Ltd,KP,Company,our customer - a shipyard")
    path = tmp_path / "counterparties.csv"
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return path


def screen(page, path: Path, shot: Path | None = None) -> int:
    """Upload a file on the UI, wait for the job, return its run id."""
    page.goto("/ui/upload")
    page.get_by_label(re.compile("CSV, XLSX or JSON lines")).set_input_files(str(path))
    page.get_by_role("button", name="Screen").click()
    page.wait_for_url(re.compile(r"/ui/jobs/[0-9a-f]+$"))
    assert page.locator("progress#job-progress").count() == 1
    link = page.get_by_role("link", name=re.compile(r"Review the alerts of run #\d+"))
    link.wait_for(timeout=90_000)
    if shot:
        page.screenshot(path=str(shot), full_page=True)
    return int(re.search(r"#(\d+)", link.inner_text()).group(1))


def zorblax_row(page, run_id: int):
    page.goto(f"/ui/alerts?run_id={run_id}&state=all")
    row = page.locator("table.queue tbody tr").filter(has_text="Zorblax Heavy Industries Ltd")
    assert row.count() == 1
    return row


def test_review_workflow_in_the_browser(site, browser, shots, tmp_path):
    context = browser.new_context(base_url=site.url, viewport={"width": 1366, "height": 860})
    page = context.new_page()
    page.goto("/ui/alerts")
    assert "/ui/login" in page.url
    page.screenshot(path=str(shots / "login.png"))
    page.get_by_label("User name").fill("rita")
    page.get_by_label("Password").fill("wrong password")
    page.get_by_role("button", name="Log in").click()
    assert page.get_by_role("alert").inner_text() == "Unknown user or wrong password."
    page.get_by_label("User name").fill("rita")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(re.compile(r"/ui/alerts$"))

    path = upload_file(tmp_path)
    first = screen(page, path, shots / "upload-progress.png")
    row = zorblax_row(page, first)
    assert "Open" in row.inner_text()
    page.screenshot(path=str(shots / "queue.png"), full_page=True)
    row.get_by_role("link").click()
    page.wait_for_url(re.compile(r"/ui/alerts/\d+$"))
    alert_url = page.url
    assert page.locator("td.name mark").count() >= 2  # matched tokens highlighted on both sides
    assert "Zorblax Heavy Industries Ltd" in page.locator("section", has=page.get_by_role("heading", name="Query record")).inner_text()
    assert "zorb-1" in page.get_by_role("heading", name=re.compile("List entry")).inner_text()

    # a reason is required: the browser will not submit without one
    page.get_by_role("button", name="Dismiss: false positive").click()
    assert page.url == alert_url and "Open" in page.locator(".summary").inner_text()
    page.get_by_label(re.compile("Reason")).fill("Our customer is a Norwegian shipyard; the listed firm is in Pyongyang")
    page.get_by_role("button", name="Dismiss: false positive").click()
    page.wait_for_url(alert_url)
    assert "Dismissed" in page.locator(".summary").inner_text()
    assert "Norwegian shipyard" in page.locator("section.decide table").inner_text()

    # the next run: same record, same unchanged entry -> suppressed
    second = screen(page, path)
    row = zorblax_row(page, second)
    assert "Suppressed" in row.inner_text()
    page.goto(f"/ui/alerts?run_id={second}")
    assert "Zorblax" not in page.locator("#queue").inner_text()  # not in the to-review queue

    # the list entry changes -> the next run reopens it
    v2 = tmp_path / "acme-v2.csv"
    v2.write_text(V2)
    r = httpx.post(site.url + "/lists/acme-blocklist/import", files={"files": ("acme.csv", v2.read_bytes(), "text/csv")},
                   data={"captured": "2026-11"}, headers={"Authorization": f"ApiKey {site.admin_key}"})
    assert r.status_code == 200 and r.json()["created"], r.text
    third = screen(page, path)
    row = zorblax_row(page, third)
    assert "Open" in row.inner_text()
    row.get_by_role("link").click()
    assert "reopened: the list entry changed" in page.locator("p.note").first.inner_text()

    page.goto("/ui/lists/acme-blocklist")
    assert "Zorblax Group" in page.locator("table").last.inner_text()
    context.close()


def test_pages_render_for_the_record(site, browser, shots):
    """The main pages, logged in, with keyboard focus visible; screenshots for docs/ui.md."""
    context = browser.new_context(base_url=site.url, viewport={"width": 1366, "height": 860})
    page = context.new_page()
    problems: list[str] = []
    page.on("console", lambda msg: problems.append(msg.text) if msg.type == "error" else None)
    page.on("pageerror", lambda exc: problems.append(str(exc)))
    page.goto("/ui/login?next=/ui/")
    page.get_by_label("User name").fill("rita")
    page.get_by_label("Password").fill(PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_url(site.url + "/ui/")
    assert page.locator("svg.chart").count() == 1
    page.screenshot(path=str(shots / "dashboard.png"), full_page=True)

    # the queue's filters apply as they change (htmx), and the URL follows
    page.goto("/ui/alerts")
    before = page.locator("table.queue tbody tr").count()
    page.get_by_label("List").select_option("us-bis-dpl")
    page.wait_for_url(re.compile(r"source=us-bis-dpl"))
    page.wait_for_function("document.querySelectorAll('table.queue tbody tr').length < %d" % before)
    assert all("us-bis-dpl" in t for t in page.locator("table.queue tbody tr td:nth-child(4)").all_inner_texts())
    page.get_by_label("List").select_option("")
    page.get_by_label("Search").fill("hikvision")
    page.wait_for_url(re.compile(r"q=hikvision"))
    page.get_by_label("State").select_option("all")
    page.wait_for_url(re.compile(r"state=all"))
    page.locator("table.queue tbody tr a").first.click()
    page.wait_for_url(re.compile(r"/ui/alerts/\d+$"))
    assert page.get_by_role("heading", name="What follows: rules and citations").count() == 1
    page.screenshot(path=str(shots / "alert.png"), full_page=True)

    page.locator("h2 a.small").click()
    page.wait_for_url(re.compile(r"/ui/entities/"))
    page.screenshot(path=str(shots / "entity.png"), full_page=True)

    page.goto("/ui/lists/us-ofac-sdn")
    assert "1858" in page.locator("p.cards").inner_text()
    page.screenshot(path=str(shots / "list-diff.png"))

    page.goto("/ui/lists")
    page.screenshot(path=str(shots / "lists.png"))

    page.goto("/docs")  # Swagger UI, served locally, on the session
    page.wait_for_selector(".opblock", timeout=30_000)
    assert page.locator(".opblock").count() >= 30
    page.screenshot(path=str(shots / "api-docs.png"))

    # keyboard: the skip link comes first and moves focus to the content
    page.goto("/ui/")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Skip to content"
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "main"

    assert not problems, problems  # no script errors, no blocked or missing resources
    # a reviewer does not see the audit trail; nothing outside the server is fetched
    assert page.goto("/ui/audit").status == 403
    requested = []
    page.on("request", lambda req: requested.append(req.url))
    page.goto("/ui/")
    assert requested and all(u.startswith(site.url) for u in requested)
    context.close()


def test_audit_page_for_admins(site, browser, shots):
    context = browser.new_context(base_url=site.url, viewport={"width": 1366, "height": 860})
    context.set_extra_http_headers({"Authorization": f"ApiKey {site.admin_key}"})
    page = context.new_page()
    page.goto("/ui/audit")
    assert "Chain verified" in page.locator("p.ok").inner_text()
    page.screenshot(path=str(shots / "audit.png"))
    context.close()


def test_only_failed_logins_count_against_the_limit(site):
    # more good logins from one address than the failed-attempt burst allows (20)
    codes = [httpx.post(site.url + "/ui/login", data={"name": "rita", "password": PASSWORD}).status_code for _ in range(25)]
    assert codes == [303] * 25


def test_a_bad_ui_address_gets_the_error_page_not_json(site):
    with httpx.Client(base_url=site.url) as client:
        assert client.post("/ui/login", data={"name": "rita", "password": PASSWORD}).status_code == 303
        for path in ("/ui/alerts/abc", "/ui/alerts?offset=-1"):
            r = client.get(path)
            assert r.status_code == 422 and r.headers["content-type"].startswith("text/html"), (path, r.text[:200])
            assert "Bad request" in r.text and "detail" not in r.text[:20]
        screened = httpx.post(site.url + "/screen", json={"name": "Zorblax Heavy Industries"}, headers={"Authorization": f"ApiKey {site.admin_key}"}).json()
        alert_id = screened["hits"][0]["alert"]["id"]
        shown = client.get(f"/ui/alerts/{alert_id}", params={"error": "Your session expired. Call +1-555-0100"})
        assert shown.status_code == 200 and "555-0100" not in shown.text  # no message is taken from the address
