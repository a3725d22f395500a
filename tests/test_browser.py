"""The configurator page in a real browser: Debian's chromium through its chromedriver,
driven by selenium, against `atoconf serve` on the PC catalog with a stock database.

After every change the disabled options are exactly the values the API's domains
leave out; "why?" names the rules in the rule file's words; plan and reserve work,
and the reservation is in the database. Skipped when chromium is absent, except
under CI, where `.ci/run` installs it. Screenshots go to test-artifacts/.
"""

from __future__ import annotations

import json
import os
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from atoconf.planning.stock import Stock, StockDatabase
from tests.conftest import CATALOGS, PC, ROOT, cli, serving

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
ARTIFACTS = ROOT / "test-artifacts"
TOKEN = "browser-test-token-0123456789"

if not (Path(CHROMIUM).exists() and Path(CHROMEDRIVER).exists()):
    if os.environ.get("CI"):
        pytest.fail("CI must run the browser tests: install chromium and chromium-driver")
    pytest.skip("no chromium and chromedriver here", allow_module_level=True)
webdriver = pytest.importorskip("selenium.webdriver")
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.common.keys import Keys  # noqa: E402
from selenium.webdriver.support.select import Select  # noqa: E402
from selenium.webdriver.support.wait import WebDriverWait  # noqa: E402


class Server:
    def __init__(self, base: str, database: str) -> None:
        self.base = base
        self.database = database

    def post(self, path: str, body: Any) -> Any:
        asked = urllib.request.Request(
            self.base + path, data=json.dumps(body).encode(), method="POST"
        )
        with urllib.request.urlopen(asked, timeout=60) as answer:
            return json.load(answer)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    folder = tmp_path_factory.mktemp("serve")
    url = str(folder / "stock.db")
    database = StockDatabase(url)
    database.init()
    database.import_csv(Stock.from_csv(CATALOGS / "pc" / "stock.csv"))
    database.engine.dispose()
    token = folder / "token"
    token.write_text(TOKEN)
    with serving(str(PC), "--stock", url, "--token-file", str(token)) as base:
        yield Server(base, url)


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--window-size=1280,1400"):
        options.add_argument(flag)
    service = webdriver.ChromeService(executable_path=CHROMEDRIVER)
    driver = webdriver.Chrome(options=options, service=service)
    try:
        yield driver
    finally:
        driver.quit()


def settled(browser: Any) -> None:
    """Wait until the page has applied the answers to its latest change."""
    WebDriverWait(browser, 60).until(
        lambda b: b.find_element(By.ID, "app").get_attribute("data-busy") == "false"
    )


def opened(browser: Any, server: Server, usage: str | None = None) -> None:
    """The workstation's page, settled, with `usage` chosen when given."""
    browser.get(f"{server.base}/products/workstation")
    settled(browser)
    if usage is not None:
        Select(browser.find_element(By.NAME, "usage")).select_by_value(usage)
        settled(browser)


def shown_request(browser: Any) -> dict[str, Any]:
    return dict(json.loads(browser.find_element(By.ID, "request-json").text))


def encode(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value)


def assert_disabled_is_the_complement(browser: Any, server: Server) -> None:
    request = shown_request(browser)
    select = request["select"]
    product = server.post("/api/v1/products/workstation/domains", request)
    for element in browser.find_elements(By.CSS_SELECTOR, "#choices select"):
        name = element.get_attribute("name")
        if name in select:  # judged without its own choice, so it can be switched
            others = {k: v for k, v in select.items() if k != name}
            domain = server.post("/api/v1/products/workstation/domains", {"select": others})
        else:
            domain = product
        allowed = {encode(v) for v in domain["domains"][name]}
        options = element.find_elements(By.TAG_NAME, "option")
        disabled = {o.get_attribute("value") for o in options if not o.is_enabled()}
        every = {o.get_attribute("value") for o in options} - {""}
        assert disabled == every - allowed, name
        assert "" not in disabled


def screenshot(browser: Any, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    browser.save_screenshot(str(ARTIFACTS / name))


def test_clicking_through_keeps_the_page_and_the_api_in_step(browser: Any, server: Server) -> None:
    browser.get(f"{server.base}/")
    browser.find_element(By.CSS_SELECTOR, 'a[href="/products/workstation"]').click()
    settled(browser)
    assert_disabled_is_the_complement(browser, server)
    steps = [("usage", "gaming"), ("tier", "enthusiast"), ("gpu", "GPU-4090"), ("data", "null")]
    counted = 0
    for name, value in steps:
        Select(browser.find_element(By.NAME, name)).select_by_value(value)
        settled(browser)
        assert shown_request(browser)["select"][name] == (None if value == "null" else value)
        assert_disabled_is_the_complement(browser, server)
        shown = browser.find_element(By.ID, "count").text
        if shown != "too many to count in 2 s":  # the page gives a count 2 s
            expected = server.post("/api/v1/products/workstation/count", shown_request(browser))
            assert shown.replace(",", "") == str(expected["count"])
            counted += 1
    assert counted >= 2
    price = browser.find_element(By.ID, "cheapest-price").text
    best = server.post(
        "/api/v1/products/workstation/solve",
        {**shown_request(browser), "minimize": "total(price)", "limit": 1},
    )
    assert price == best["assemblies"][0]["objective"]
    screenshot(browser, "configurator.png")
    # undo takes back the last change
    browser.find_element(By.ID, "undo").click()
    settled(browser)
    assert "data" not in shown_request(browser)["select"]
    # the URL reproduces the configuration
    browser.get(browser.current_url)
    settled(browser)
    assert shown_request(browser)["select"] == dict(steps[:3])
    assert_disabled_is_the_complement(browser, server)
    # reset takes back every choice
    browser.find_element(By.ID, "reset").click()
    settled(browser)
    assert shown_request(browser)["select"] == {}
    assert_disabled_is_the_complement(browser, server)


def test_why_names_the_rules_in_their_own_words(browser: Any, server: Server) -> None:
    opened(browser, server, "office")
    why = browser.find_element(By.CSS_SELECTOR, 'button[aria-controls="why-gpu"]')
    why.send_keys(Keys.ENTER)  # from the keyboard
    answer = WebDriverWait(browser, 60).until(
        lambda b: b.find_element(By.ID, "why-gpu").find_elements(By.CSS_SELECTOR, ".why-answer li")
    )
    text = " ".join(item.text for item in answer)
    assert "workstation.ato:" in text and "rule " in text
    screenshot(browser, "why.png")


def test_keyboard_alone_changes_a_choice(browser: Any, server: Server) -> None:
    opened(browser, server)
    usage = browser.find_element(By.NAME, "usage")
    usage.send_keys(Keys.ARROW_DOWN)
    settled(browser)
    assert "usage" in shown_request(browser)["select"]
    assert_disabled_is_the_complement(browser, server)


def test_plan_then_reserve_changes_the_stock(browser: Any, server: Server) -> None:
    opened(browser, server, "office")
    browser.find_element(By.ID, "plan").click()
    status = WebDriverWait(browser, 60).until(lambda b: b.find_element(By.ID, "plan-status"))
    assert status.text in ("Buildable now", "Short of parts")
    browser.find_element(By.ID, "order-id").send_keys("WEB-1")
    browser.find_element(By.ID, "token").send_keys(TOKEN)
    browser.find_element(By.ID, "reserve").click()
    WebDriverWait(browser, 60).until(
        lambda b: "reserved" in b.find_element(By.ID, "plan-status").text
    )
    screenshot(browser, "plan.png")
    database = StockDatabase(server.database)
    held = database.reserved_for("WEB-1")
    database.engine.dispose()
    picks = browser.find_elements(By.CSS_SELECTOR, "#picks tr")
    assert held and len(picks) == len(held)


def test_no_asset_comes_from_elsewhere(browser: Any, server: Server) -> None:
    opened(browser, server)
    sources = browser.execute_script(
        "return [...document.querySelectorAll('script[src], link[href]')].map(e => e.src || e.href)"
    )
    assert sources and all(s.startswith(server.base) for s in sources)


def test_the_plan_report_renders_in_a_browser(browser: Any, tmp_path: Path) -> None:
    """`plan --format html`: one file that a browser shows whole, chart and tables,
    with nothing loaded from elsewhere."""
    orders = CATALOGS / "pc" / "orders.jsonl"
    stock = CATALOGS / "pc" / "stock.csv"
    args = ["plan", str(PC), "--stock", str(stock), "--orders", str(orders)]
    ran = cli(*args, "--today", "2026-12-07", "--capacity", "480", "--format", "html")
    assert ran.returncode in (0, 1), ran.stderr
    report = tmp_path / "report.html"
    report.write_text(ran.stdout, encoding="utf-8")
    browser.get(report.as_uri())
    chart = browser.find_element(By.TAG_NAME, "svg")
    assert chart.is_displayed() and chart.size["width"] > 200 and chart.size["height"] > 50
    assert browser.find_elements(By.TAG_NAME, "table")
    loaded = browser.execute_script(
        "return performance.getEntriesByType('resource').map(e => e.name)"
    )
    assert loaded == []
    screenshot(browser, "plan-report.png")
