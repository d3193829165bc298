"""Helpers for driving the web page with selenium (used by the browser tests)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from .conftest import WAIT, Site


def wait(driver: Any, condition: Callable[[Any], Any], timeout: float = WAIT) -> Any:
    from selenium.common.exceptions import NoSuchElementException, StaleElementReferenceException
    from selenium.webdriver.support.ui import WebDriverWait

    # a page that reloads (e.g. after its token expired) makes found elements stale
    ignored = (NoSuchElementException, StaleElementReferenceException)
    return WebDriverWait(driver, timeout, poll_frequency=0.05,
                         ignored_exceptions=ignored).until(condition)  # fmt: skip


def js(driver: Any, script: str, *args: Any) -> Any:
    return driver.execute_script(script, *args)


def ready(driver: Any) -> bool:
    return bool(js(driver, "return document.body.dataset.ready === 'true'"))


def by_id(driver: Any, element_id: str) -> Any:
    from selenium.webdriver.common.by import By

    return driver.find_element(By.ID, element_id)


def open_page(driver: Any, site: Site, path: str, token: str) -> None:
    """Open a page and sign in on it with ``token`` as a person would (type it, press Enter)."""
    from selenium.webdriver.common.keys import Keys

    driver.get(site.url + path)
    token_input = wait(driver, lambda d: _shown(d, "token") or (ready(d) and "signed-in"))
    if token_input == "signed-in":
        if js(driver, "return sessionStorage.getItem('contentgen.token')") == token:
            return
        by_id(driver, "sign-out").click()  # signed in with another token in this tab
        token_input = wait(driver, lambda d: _shown(d, "token"))
    token_input.send_keys(token, Keys.ENTER)
    wait(driver, ready)


def _shown(driver: Any, element_id: str) -> Any:
    from selenium.common.exceptions import NoSuchElementException

    try:
        element = by_id(driver, element_id)
    except NoSuchElementException:
        return None
    return element if element.is_displayed() else None


def select(driver: Any, element_id: str, value: str) -> None:
    from selenium.webdriver.support.ui import Select

    Select(by_id(driver, element_id)).select_by_value(value)


def fill_order(driver: Any, *, client_id: str, topic: str, keywords: str = "") -> None:
    select(driver, "f-client", client_id)
    for element_id, text in (("f-topic", topic), ("f-keywords", keywords)):
        field = by_id(driver, element_id)
        field.clear()
        if text:
            field.send_keys(text)


def row_status(driver: Any, job_id: str) -> str | None:
    status: str | None = js(
        driver,
        "const r = document.querySelector(`#jobs tbody tr[data-job-id='${arguments[0]}']`);"
        "return r ? r.dataset.status : null;",
        job_id,
    )
    return status


def row_ids(driver: Any) -> list[str]:
    ids: list[str] = js(
        driver, "return [...document.querySelectorAll('#jobs tbody tr')].map(r => r.dataset.jobId)"
    )
    return ids


def record_statuses(driver: Any) -> None:
    """Remember every status each row of the job list shows (``window.__seen``)."""
    js(driver, """
        window.__seen = {};
        const body = document.querySelector('#jobs tbody');
        const look = () => {
          for (const r of body.rows) {
            const seen = window.__seen[r.dataset.jobId] ||= [];
            if (seen[seen.length - 1] !== r.dataset.status) seen.push(r.dataset.status);
          }
        };
        new MutationObserver(look).observe(body, {subtree: true, childList: true,
                                                  attributes: true});
    """)


def allow_downloads(driver: Any, folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    driver.execute_cdp_cmd("Browser.setDownloadBehavior",
                           {"behavior": "allow", "downloadPath": str(folder)})  # fmt: skip
