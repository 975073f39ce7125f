"""A real browser for the end-to-end tests: Debian's headless Chromium driven by Selenium through
Debian's ChromeDriver (the same version from the same archive), against pytest-django's live_server.

One browser per module; screenshots and downloads of a run go to $E2E_ARTIFACTS (default
e2e/artifacts/). Without Chromium or its driver every test here is skipped with the reason.
"""
import base64
import os
import shutil
import tempfile
import time
from pathlib import Path

import pytest

CHROMIUM = os.environ.get("E2E_CHROMIUM", "/usr/bin/chromium")
CHROMEDRIVER = os.environ.get("E2E_CHROMEDRIVER", "/usr/bin/chromedriver")
ARTIFACTS = Path(os.environ.get("E2E_ARTIFACTS") or Path(__file__).parent / "artifacts")
CHROMIUM_FLAGS = (
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--disable-dev-shm-usage", "--no-proxy-server", "--window-size=1366,900", "--lang=en-US",
)
WAIT_SECONDS = 15


def browser_missing() -> str | None:
    """Why the browser tests cannot run here, or None."""
    for path, what in ((CHROMIUM, "Chromium"), (CHROMEDRIVER, "ChromeDriver")):
        if not os.access(path, os.X_OK):
            return f"{what} not installed ({path}): run scripts/install-browser (needs root)"
    try:
        import selenium  # noqa: F401
    except ImportError:
        return "selenium not installed: pip install -r requirements.txt"
    return None


class Browser:
    """The few moves the tests make, each waiting for the page it leads to."""

    def __init__(self, driver, downloads: Path):
        from selenium.webdriver.common.by import By
        from selenium.webdriver.support.ui import WebDriverWait

        self.driver, self.downloads, self.By = driver, downloads, By
        self.wait = WebDriverWait(driver, WAIT_SECONDS)
        self.base_url = ""

    # ------------------------------------------------------------ finding
    def css(self, selector: str):
        return self.driver.find_element(self.By.CSS_SELECTOR, selector)

    def all_css(self, selector: str):
        return self.driver.find_elements(self.By.CSS_SELECTOR, selector)

    def xpath(self, expression: str):
        return self.driver.find_element(self.By.XPATH, expression)

    def link(self, text: str):
        return self.driver.find_element(self.By.LINK_TEXT, text)

    @property
    def text(self) -> str:
        return self.css("body").text

    @property
    def path(self) -> str:
        url = self.driver.current_url
        return url[len(self.base_url):] if url.startswith(self.base_url) else url

    def messages(self) -> list[str]:
        return [li.text for li in self.all_css("ul.messagelist li")]

    # ------------------------------------------------------------ moving
    def open(self, path: str) -> None:
        self.driver.get(self.base_url + path)
        self.wait_loaded()

    def click(self, element) -> None:
        """Clicks something that loads a new page, and waits for that page."""
        old = self.css("html")
        element.click()
        self.wait.until(lambda d: self.is_stale(old))
        self.wait_loaded()

    def type_into(self, selector: str, value: str) -> None:
        field = self.css(selector)
        field.clear()
        field.send_keys(value)

    def set_value(self, selector: str, value: str) -> None:
        """For <input type=date>, whose typing depends on the browser's locale."""
        self.driver.execute_script(
            "const f = document.querySelector(arguments[0]); f.value = arguments[1];"
            "f.dispatchEvent(new Event('change', {bubbles: true}));", selector, value)

    def run_action(self, action: str, *, rows, new_page: bool = True) -> None:
        """Ticks the given changelist rows, chooses the action and presses Go (and waits for the page
        it answers, unless the answer is a download)."""
        from selenium.webdriver.support.ui import Select

        for row in rows:
            box = row.find_element(self.By.CSS_SELECTOR, "input.action-select")
            if not box.is_selected():
                box.click()
        Select(self.css("select[name=action]")).select_by_value(action)
        go = self.css("button[name=index]")
        if new_page:
            self.click(go)
        else:
            go.click()

    def is_stale(self, element) -> bool:
        from selenium.common.exceptions import StaleElementReferenceException

        try:
            element.tag_name
            return False
        except StaleElementReferenceException:
            return True

    def wait_loaded(self) -> None:
        self.wait.until(lambda d: d.execute_script("return document.readyState") == "complete")

    # ------------------------------------------------------------ keeping
    def screenshot(self, name: str) -> Path:
        """The whole page, not just the window, as ARTIFACTS/<name>.png."""
        metrics = self.driver.execute_cdp_cmd("Page.getLayoutMetrics", {})
        size = metrics.get("cssContentSize") or metrics["contentSize"]
        width = max(int(size["width"]), 1366)
        height = min(max(int(size["height"]), 200), 6000)
        shot = self.driver.execute_cdp_cmd("Page.captureScreenshot", {
            "format": "png", "captureBeyondViewport": True,
            "clip": {"x": 0, "y": 0, "width": width, "height": height, "scale": 1}})
        path = ARTIFACTS / f"{name}.png"
        path.write_bytes(base64.b64decode(shot["data"]))
        return path

    def pdf(self, name: str) -> bytes:
        """The page as Chromium prints it (print stylesheet, A4 from @page) as ARTIFACTS/<name>.pdf."""
        printed = self.driver.execute_cdp_cmd("Page.printToPDF", {"printBackground": True, "preferCSSPageSize": True})
        data = base64.b64decode(printed["data"])
        (ARTIFACTS / f"{name}.pdf").write_bytes(data)
        return data

    def downloaded(self, suffix: str, *, before: set[str]) -> Path:
        """Waits for a new finished download ending in `suffix`."""
        deadline = time.monotonic() + WAIT_SECONDS
        while time.monotonic() < deadline:
            new = [p for p in self.downloads.iterdir() if p.name not in before and p.name.endswith(suffix)]
            if new:
                return new[0]
            time.sleep(0.1)
        raise AssertionError(f"no {suffix} download within {WAIT_SECONDS}s: {sorted(os.listdir(self.downloads))}")

    def session_cookie(self) -> str:
        return self.driver.get_cookie("sessionid")["value"]

    def log_out(self) -> None:
        self.driver.delete_all_cookies()


@pytest.fixture(scope="module")
def browser():
    reason = browser_missing()
    if reason:
        pytest.skip(reason)
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    os.environ.setdefault("SE_OFFLINE", "true")  # never let Selenium Manager look for a driver online
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    profile = Path(tempfile.mkdtemp(prefix="nymble-e2e-profile-"))
    downloads = Path(tempfile.mkdtemp(prefix="nymble-e2e-downloads-"))
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in CHROMIUM_FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={profile}")
    options.add_experimental_option("prefs", {
        "download.default_directory": str(downloads), "download.prompt_for_download": False,
        "profile.default_content_settings.popups": 0})
    driver = webdriver.Chrome(options=options, service=Service(CHROMEDRIVER))
    driver.set_page_load_timeout(30)
    driver.execute_cdp_cmd("Browser.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(downloads)})
    try:
        yield Browser(driver, downloads)
    finally:
        driver.quit()
        shutil.rmtree(profile, ignore_errors=True)
        shutil.rmtree(downloads, ignore_errors=True)


@pytest.fixture
def web(browser, live_server):
    """The module's browser pointed at this test's live server, logged out."""
    browser.base_url = live_server.url
    browser.open("/admin/login/")
    browser.log_out()
    yield browser
    browser.log_out()
