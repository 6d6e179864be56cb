"""The HTML screening report: self-contained, escaped, and looked at in a real browser."""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import pytest

from tests.test_batch_support import PLANTED, cli, screen_home, warm_bundled_home  # noqa: F401

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"


def test_report_is_self_contained_and_escapes_input(screen_home, tmp_path):
    src = tmp_path / "in.csv"
    src.write_text('name,note\nMahan Air,"<script>alert(1)</script>"\nHikvision,"<img src=x onerror=alert(2)>"\nSiemens AG,\n', encoding="utf-8")
    out = tmp_path / "report.html"
    result = cli("screen", str(src), "-o", str(out), home=screen_home)
    assert result.returncode == 1, result.stderr
    html = out.read_text(encoding="utf-8")
    assert "<script" not in html and "<img" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert not re.search(r"(src|href)\s*=\s*[\"']?(https?:|//)|<link|@import|<script", html)  # nothing fetched or run
    assert html.count('class="flag match"') == 2


@pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="no chromium: apt-get install chromium")
def test_report_in_a_real_browser(screen_home, tmp_path):
    playwright = pytest.importorskip("playwright.sync_api", reason="playwright is not installed (pip install playwright)")
    out = tmp_path / "report.html"
    assert cli("screen", str(PLANTED), "-o", str(out), home=screen_home).returncode == 1
    shot = Path(__file__).resolve().parent / "fixtures" / "batch_report.png"
    with playwright.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        try:
            page = browser.new_page(viewport={"width": 1300, "height": 1000})
            page.goto(out.as_uri())
            assert page.title() == "Screening report: batch_planted.csv"
            cards = page.locator(".card .n").all_inner_texts()
            assert cards[0] == "105" and cards[1] == "65"
            assert page.locator("svg rect").count() >= 4
            assert page.locator("section.flag").count() == 65
            first = page.locator("section.flag").first
            assert first.locator(".side").count() == 2 and first.locator(".side").nth(0).is_visible()
            box = first.locator(".side").nth(1).bounding_box()
            left = first.locator(".side").nth(0).bounding_box()
            assert box["x"] > left["x"] + left["width"] - 1  # evidence side by side
            page.screenshot(path=str(tmp_path / "report.png"), full_page=False)
        finally:
            browser.close()
    assert (tmp_path / "report.png").stat().st_size > 10_000
    if os.environ.get("CLEARANCE_KEEP_SCREENSHOT"):  # refresh the reviewers' copy in tests/fixtures
        shutil.copy2(tmp_path / "report.png", shot)
