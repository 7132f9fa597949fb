"""The viewer in a real headless browser (Debian's chromium driven by selenium): open a small run's
overview, follow an error to its retrieved samples and back, check the highlighted step is the located one
and that images load, and save screenshots. Runs against the server and against the static folder.

Skipped when /usr/bin/chromium or /usr/bin/chromedriver is absent, unless EDTUNE_REQUIRE_BROWSER=1 (CI),
where that fails the run. Screenshots are also copied to $EDTUNE_SCREENSHOTS when set."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from edtune.jsonl import read_jsonl
from edtune.loop.rundir import RunDir
from edtune.teacher.records import StepLocation
from edtune.view import Site
from edtune.view.server import serve_in_thread
from edtune.view.static import write_site

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
FLAGS = ("--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--window-size=1280,1600")

if not (CHROMIUM.is_file() and CHROMEDRIVER.is_file()):
    _reason = ("needs Debian's chromium and chromium-driver (/usr/bin/chromium, /usr/bin/chromedriver): "
               "apt-get install -y chromium chromium-driver")
    if os.environ.get("EDTUNE_REQUIRE_BROWSER") == "1":
        pytest.fail(f"EDTUNE_REQUIRE_BROWSER=1 but the test {_reason}", pytrace=False)
    pytest.skip(_reason, allow_module_level=True)
webdriver = pytest.importorskip("selenium.webdriver", reason="needs selenium (pip install -e '.[dev]')")
By = pytest.importorskip("selenium.webdriver.common.by").By


@pytest.fixture
def browser(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """Headless chromium; selenium is given the driver and the browser, so selenium-manager fetches nothing."""
    from selenium.webdriver.chrome.service import Service

    monkeypatch.setenv("SE_OFFLINE", "true")
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in (*FLAGS, f"--user-data-dir={tmp_path / 'profile'}"):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=Service(executable_path=str(CHROMEDRIVER)), options=options)
    driver.set_page_load_timeout(30)
    try:
        yield driver
    finally:
        driver.quit()


def screenshot(driver: Any, tmp_path: Path, name: str) -> Path:
    """Save a screenshot under `tmp_path`, and under $EDTUNE_SCREENSHOTS when set (a CI artefact folder)."""
    path = tmp_path / f"{name}.png"
    assert driver.save_screenshot(str(path)) and path.stat().st_size > 0
    if target := os.environ.get("EDTUNE_SCREENSHOTS"):
        Path(target).mkdir(parents=True, exist_ok=True)
        shutil.copy(path, Path(target) / path.name)
    return path


def images_loaded(driver: Any) -> int:
    """How many images the page has, asserting that every one of them decoded."""
    states = driver.execute_script(
        "return Array.from(document.images).map(i => [i.src, i.complete, i.naturalWidth]);")
    assert all(complete and width > 0 for _, complete, width in states), states
    return len(states)


def walk(driver: Any, start: str, run: Path, tmp_path: Path, name: str) -> None:
    driver.get(start)
    assert driver.find_element(By.ID, "method").text == "error_driven"
    screenshot(driver, tmp_path, f"{name}-overview")
    driver.find_element(By.CSS_SELECTOR, "a.errors-link").click()
    assert "errors of" in driver.find_element(By.TAG_NAME, "h1").text
    screenshot(driver, tmp_path, f"{name}-errors")
    driver.find_element(By.CSS_SELECTOR, "a.error-link").click()
    sample_id = driver.find_element(By.TAG_NAME, "h1").text.split()[1]
    expected = {loc.sample_id: loc.step for loc in read_jsonl(RunDir(run).file(1, "locations.jsonl"), StepLocation)}
    located = driver.find_elements(By.CSS_SELECTOR, "ol.steps li.located")
    assert len(located) == 1 and located[0].get_attribute("data-step") == str(expected[sample_id])
    others = driver.find_elements(By.CSS_SELECTOR, "ol.steps li:not(.located)")
    assert others and located[0].value_of_css_property("background-color") != others[0].value_of_css_property(
        "background-color")
    assert images_loaded(driver) >= 2
    error_url = driver.current_url
    screenshot(driver, tmp_path, f"{name}-error")
    link = driver.find_element(By.CSS_SELECTOR, "table.retrieved a.sample-link")
    pool_id = link.text
    link.click()
    assert driver.find_element(By.TAG_NAME, "h1").text == f"Pool sample {pool_id}"
    assert images_loaded(driver) == 1 and sample_id in driver.find_element(By.ID, "pulls").text
    screenshot(driver, tmp_path, f"{name}-pool-sample")
    driver.back()
    assert driver.current_url == error_url and driver.find_element(By.CSS_SELECTOR, "li.located")
    driver.find_element(By.CSS_SELECTOR, "a.hits-link").click()
    fates = [td.text for td in driver.find_elements(By.CSS_SELECTOR, "#hits tr td:last-child")]
    assert fates.count("chosen") == 4 and images_loaded(driver) == len(fates)
    screenshot(driver, tmp_path, f"{name}-hits")
    driver.back()
    assert driver.current_url == error_url
    driver.find_element(By.ID, "back-to-errors").click()
    assert driver.find_elements(By.CSS_SELECTOR, "a.error-link")


def test_served_viewer_in_chromium(browser: Any, finished_run: Path, tmp_path: Path) -> None:
    server, thread = serve_in_thread(Site([finished_run]))
    host, port = server.server_address[:2]
    try:
        walk(browser, f"http://{host!s}:{port}/r0/index.html", finished_run, tmp_path, "served")
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


def test_static_viewer_in_chromium(browser: Any, finished_run: Path, tmp_path: Path) -> None:
    index = write_site([finished_run], tmp_path / "site")
    walk(browser, (index.parent / "r0" / "index.html").as_uri(), finished_run, tmp_path, "static")
