"""The issue's "done when" path in a real browser: headless Chromium from Debian's packages,
driven by Selenium, against the real server. One browser for the module; each test logs in
afresh. Without Chromium the tests skip locally and fail in CI (CI=true)."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path

import caldav
import pytest
import requests
from selenium import webdriver
from selenium.common.exceptions import WebDriverException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.chrome.webdriver import WebDriver
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webelement import WebElement
from selenium.webdriver.support import expected_conditions
from selenium.webdriver.support.select import Select
from selenium.webdriver.support.wait import WebDriverWait

from hermes_groupware.models import InboundMessage
from hermes_groupware.models.enums import InboundStatus
from tests.hermes_groupware.http.console.conftest import PASSWORDS, ConsoleServer

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")


@pytest.fixture(scope="module")
def browser() -> Iterator[WebDriver]:
    """Headless Chromium; its absence fails the run in CI."""
    if not (CHROMIUM.exists() and CHROMEDRIVER.exists()):
        if os.environ.get("CI") == "true":
            pytest.fail("CI needs the Debian packages chromium and chromium-driver")
        pytest.skip("chromium and chromium-driver are not installed")
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage",
                     "--disable-gpu", "--window-size=1280,1000"):  # fmt: skip
        options.add_argument(argument)
    driver = webdriver.Chrome(service=Service(str(CHROMEDRIVER)), options=options)
    driver.set_page_load_timeout(30)
    yield driver
    driver.quit()


def _submit(browser: WebDriver, button: str, by: str = By.ID) -> None:
    """Click a submit button (or link) and wait until the next page has replaced this one."""
    page = browser.find_element(By.TAG_NAME, "html")
    browser.find_element(by, button).click()
    WebDriverWait(browser, 20).until(_replaced(page))


def _replaced(page: WebElement) -> Callable[[WebDriver], bool]:
    """``staleness_of``, also when chromedriver, asked mid-navigation, reports the old page's
    node as an inspector error instead of a stale element (a CI run failed on it)."""
    stale = expected_conditions.staleness_of(page)

    def check(browser: WebDriver) -> bool:
        try:
            return stale(browser)
        except WebDriverException as exc:
            if "does not belong to the document" in (exc.msg or ""):
                return True
            raise

    return check


def _log_in(browser: WebDriver, server: ConsoleServer, login: str) -> None:
    browser.delete_all_cookies()
    browser.get(server.url("/login"))
    browser.find_element(By.ID, "login").send_keys(login)
    browser.find_element(By.ID, "password").send_keys(PASSWORDS[login])
    _submit(browser, "submit")
    assert browser.current_url.endswith("/console/connect")


def test_app_password_works_in_a_caldav_client(
    browser: WebDriver, console_server: ConsoleServer
) -> None:
    _log_in(browser, console_server, "jkowalski")
    address = browser.find_element(By.ID, "caldav-address").get_attribute("value")
    assert address == console_server.base + "/"
    browser.find_element(By.ID, "label").send_keys("Thunderbird")
    _submit(browser, "create-app-password")
    password = browser.find_element(By.ID, "new-password").get_attribute("value")
    assert password
    client = caldav.DAVClient(url=address, username="jkowalski", password=password, timeout=30)
    try:
        calendars = client.principal().calendars()
    finally:
        client.close()
    assert calendars
    browser.get(console_server.url("/connect"))
    labels = [e.text for e in browser.find_elements(By.CSS_SELECTOR, "#app-passwords .label")]
    assert "Thunderbird" in labels


def test_director_gets_a_feed_of_the_complaints_register(
    browser: WebDriver, console_server: ConsoleServer
) -> None:
    number = console_server.task("Reklamacja: uszkodzona paleta")
    _log_in(browser, console_server, "admin")
    browser.get(console_server.url("/admin/feeds"))
    browser.find_element(By.ID, "feed-name").send_keys("Reklamacje dla dyrektora")
    browser.find_element(By.ID, "feed-owner").send_keys("jkowalski")
    browser.find_element(By.ID, "feed-registers").send_keys("REK")
    _submit(browser, "preview-feed")
    assert number in browser.find_element(By.ID, "preview").text
    _submit(browser, "create-feed")  # the form keeps what was typed
    link = browser.find_element(By.CSS_SELECTOR, ".link-https").get_attribute("value")
    assert link is not None
    path = "/feeds/" + link.split("/feeds/", 1)[1]
    feed = requests.get(console_server.base + path, timeout=30)
    assert feed.status_code == 200
    assert feed.headers["Content-Type"].startswith("text/calendar")
    assert number in feed.text
    _log_in(browser, console_server, "jkowalski")
    browser.get(console_server.url("/feeds"))
    assert "Reklamacje dla dyrektora" in browser.page_source


def test_schedule_the_monday_report(browser: WebDriver, console_server: ConsoleServer) -> None:
    _log_in(browser, console_server, "admin")
    browser.get(console_server.url("/admin/schedules"))
    browser.find_element(By.ID, "schedule-name").send_keys("Zaległe co poniedziałek")
    browser.find_element(By.ID, "report-overdue").click()
    Select(browser.find_element(By.ID, "schedule-day")).select_by_value("MON")
    browser.find_element(By.ID, "schedule-recipients").send_keys("jkowalski")
    _submit(browser, "create-schedule")
    upcoming = browser.find_element(By.ID, "upcoming").text
    assert upcoming.count("08:00") == 5
    _submit(browser, "run-now")
    assert "queued" in browser.find_element(By.ID, "runs").text


def test_release_a_quarantined_mail_to_its_task(
    browser: WebDriver, console_server: ConsoleServer
) -> None:
    number = console_server.task("Reklamacja faktury 12/2026")
    held = console_server.quarantined("Re: faktura", "Proszę o korektę.")
    _log_in(browser, console_server, "admin")
    browser.get(console_server.url("/admin/quarantine"))
    _submit(browser, f"a[href='/console/admin/quarantine/{held}']", By.CSS_SELECTOR)
    assert "Proszę o korektę." in browser.find_element(By.ID, "raw").text
    browser.find_element(By.ID, "release-task").send_keys(number)
    _submit(browser, "release")
    assert browser.find_element(By.ID, "message-status").text == "posted"
    with console_server.uow() as uow:
        row = uow.session.get_one(InboundMessage, held)
        assert row.status is InboundStatus.POSTED
