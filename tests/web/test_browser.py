"""The web page in a real headless Chromium against real uvicorn and a fake provider:
sign in, order, watch, read, download, retry; validation beside the fields; one client's
token sees nothing of another's; model output shown inert."""

from __future__ import annotations

import re
import time
from pathlib import Path
from typing import Any

import pytest
from selenium.webdriver.common.keys import Keys

from .conftest import WAIT, Site
from .pages import (
    allow_downloads,
    by_id,
    fill_order,
    js,
    open_page,
    ready,
    record_statuses,
    row_ids,
    row_status,
    select,
    wait,
)

pytestmark = pytest.mark.browser


def new_row(driver: Any, before: list[str]) -> str:
    ids: list[str] = wait(driver, lambda d: [i for i in row_ids(d) if i not in before])
    return ids[0]


def test_order_watch_open_and_download(driver: Any, site: Site, tmp_path: Path,
                                       shot: Any) -> None:  # fmt: skip
    token = site.token("acme", "acme-kitchens")
    site.provider.delay = 1.5
    open_page(driver, site, "/", token)
    js(driver, "window.__samePage = 'yes'")
    record_statuses(driver)
    before = row_ids(driver)
    fill_order(driver, client_id=str(site.clients["acme"]), topic="Solar panels for offices",
               keywords="solar, offices")  # fmt: skip
    with site.api(token) as http:  # a job ahead in the queue (one runs at a time) keeps ours
        ahead = http.post("/generate", json={"topic": "Heat pumps for flats",  # pending a while
                                             "content_type": "blog",
                                             "client_id": "acme"}).json()["job_id"]  # fmt: skip
    site.wait_status(token, ahead, {"in_progress"})
    by_id(driver, "generate").click()
    job_id = new_row(driver, before)
    wait(driver, lambda d: row_status(d, job_id) == "completed")

    seen = js(driver, "return window.__seen[arguments[0]]", job_id)
    assert seen[0] == "pending" and seen[-1] == "completed", seen
    assert js(driver, "return window.__samePage") == "yes"  # never reloaded
    assert js(driver, "return document.body.dataset.live") == "sse"
    body = site.wait_status(token, job_id, {"completed"})
    meta = body["result"]["metadata"]
    assert body["params"]["keywords"] == ["solar", "offices"]
    row = js(driver, "return [...document.querySelector(`tr[data-job-id='${arguments[0]}']`)"
                     ".cells].map(c => c.innerText.trim())", job_id)  # fmt: skip
    assert row[1] == "acme" and row[2].startswith("Solar panels for offices")
    assert row[3] == str(meta["word_count"])
    assert row[4].startswith("$")
    compliance = meta.get("compliance")
    assert row[5] == (f"{round(compliance['score'] * 100)}%" if compliance else "—")
    wait(driver, lambda d: row_status(d, ahead) == "completed")
    shot("jobs")

    # open it from the list
    driver.find_element("css selector", f"tr[data-job-id='{job_id}'] td.topic a").click()
    wait(driver, lambda d: ready(d) and d.current_url.endswith(f"/web/jobs/{job_id}"))
    wait(driver, lambda d: by_id(d, "piece").find_elements("css selector", "h1, h2"))
    assert by_id(driver, "job-title").text == body["result"]["title"]
    assert js(driver, "return document.querySelector('#job').dataset.status") == "completed"
    details = by_id(driver, "details").text
    assert str(meta["word_count"]) in details and meta["model"] in details
    assert by_id(driver, "retry").get_attribute("disabled") is not None
    assert by_id(driver, "cancel").get_attribute("disabled") is not None
    checks = js(driver, "return document.querySelectorAll('#compliance tbody tr').length")
    if compliance:  # the report of the quality checks, when the server makes one
        assert by_id(driver, "compliance-section").is_displayed()
        assert checks == len(compliance["checks"])
    else:
        assert not by_id(driver, "compliance-section").is_displayed()
    shot("job")

    downloads = tmp_path / "downloads"
    allow_downloads(driver, downloads)
    by_id(driver, "download").click()
    files = wait(driver, lambda d: [p for p in downloads.glob("*.md")])
    slug = re.sub(r"[^a-z0-9]+", "-", body["result"]["title"].lower()).strip("-")
    assert [f.name for f in files] == [f"{slug}.md"]
    deadline = time.monotonic() + WAIT
    while files[0].read_text(encoding="utf-8") != body["result"]["content"]:
        assert time.monotonic() < deadline, "download incomplete"
        time.sleep(0.05)


def test_retry_a_failed_job(driver: Any, site: Site, shot: Any) -> None:
    token = site.token("acme")
    site.provider.fail_next(1, 400, "The model refused the request")
    with site.api(token) as http:
        job_id = http.post("/generate", json={"topic": "Roof insulation grants",
                                              "content_type": "blog",
                                              "client_id": "acme"}).json()["job_id"]  # fmt: skip
    failed = site.wait_status(token, job_id, {"failed", "completed"})
    assert failed["status"] == "failed", failed
    open_page(driver, site, f"/web/jobs/{job_id}", token)
    assert js(driver, "return document.querySelector('#job').dataset.status") == "failed"
    assert "failed" in by_id(driver, "piece").text
    assert by_id(driver, "download").get_attribute("disabled") is not None
    shot("job-failed")
    retry = by_id(driver, "retry")
    assert retry.get_attribute("disabled") is None
    retry.click()
    wait(driver, lambda d: js(d, "return document.querySelector('#job').dataset.status")
         == "completed")  # fmt: skip
    wait(driver, lambda d: d.find_elements("css selector", "#piece h1, #piece h2"))
    done = site.wait_status(token, job_id, {"completed"})
    assert by_id(driver, "job-title").text == done["result"]["title"]

    # and it shows completed in the list
    open_page(driver, site, "/", token)
    wait(driver, lambda d: row_status(d, job_id) == "completed")


def test_cancel_a_waiting_job_then_retry_it(driver: Any, site: Site) -> None:
    token = site.token("acme")
    site.provider.delay = 3.0
    with site.api(token) as http:
        busy = http.post("/generate", json={"topic": "A slow piece ahead", "content_type":
                                            "blog", "client_id": "acme"}).json()["job_id"]
        site.wait_status(token, busy, {"in_progress"})
        job_id = http.post("/generate", json={"topic": "Waiting behind it", "content_type":
                                              "blog", "client_id": "acme"}).json()["job_id"]
    open_page(driver, site, f"/web/jobs/{job_id}", token)
    assert js(driver, "return document.querySelector('#job').dataset.status") == "pending"
    assert by_id(driver, "retry").get_attribute("disabled") is not None
    by_id(driver, "cancel").click()
    wait(driver, lambda d: js(d, "return document.querySelector('#job').dataset.status")
         == "cancelled")  # fmt: skip
    assert site.wait_status(token, job_id, {"cancelled"})["status"] == "cancelled"
    assert by_id(driver, "cancel").get_attribute("disabled") is not None
    site.provider.delay = 0.0
    by_id(driver, "retry").click()
    wait(driver, lambda d: js(d, "return document.querySelector('#job').dataset.status")
         == "completed")  # fmt: skip


def test_bad_topic_shows_the_api_message_beside_the_field(driver: Any, site: Site,
                                                          shot: Any) -> None:  # fmt: skip
    token = site.token("acme")
    with site.api(token) as http:
        expected = http.post("/generate", json={"topic": "abc", "content_type": "blog",
                                                "client_id": "acme"}).json()  # fmt: skip
    open_page(driver, site, "/", token)
    fill_order(driver, client_id=str(site.clients["acme"]), topic="abc")
    by_id(driver, "generate").click()
    error = wait(driver, lambda d: by_id(d, "err-topic").is_displayed() and by_id(d, "err-topic"))
    assert error.text.endswith(expected["error"])
    topic = by_id(driver, "f-topic")
    assert topic.get_attribute("aria-invalid") == "true"
    assert "err-topic" in topic.get_attribute("aria-describedby").split()
    assert js(driver, "return document.activeElement.id") == "f-topic"
    shot("validation")

    # a keyword error goes beside the keywords; the topic's goes away
    fill_order(driver, client_id=str(site.clients["acme"]), topic="Solar for farms",
               keywords=", ".join(f"kw{i}" for i in range(11)))  # fmt: skip
    by_id(driver, "generate").click()
    wait(driver, lambda d: by_id(d, "err-keywords").is_displayed())
    assert "at most 10 keywords" in by_id(driver, "err-keywords").text
    assert not by_id(driver, "err-topic").is_displayed()
    assert row_ids(driver) == []  # nothing was queued
    with site.api(token) as http:
        assert http.get("/jobs").json()["jobs"] == []


def test_a_token_for_one_client_sees_none_of_another_clients_jobs(driver: Any,
                                                                   site: Site) -> None:  # fmt: skip
    admin = site.token("*", admin=True)
    ids: dict[str, str] = {}
    with site.api(admin) as http:
        for name in ("acme", "globex"):
            ids[name] = http.post("/generate", json={
                "topic": f"News for {name} customers", "content_type": "blog",
                "client_id": name}).json()["job_id"]  # fmt: skip
    for job_id in ids.values():
        site.wait_status(admin, job_id, {"completed"})

    # an admin sees both, newest first, and can filter by client and status
    open_page(driver, site, "/", admin)
    wait(driver, lambda d: row_ids(d) == [ids["globex"], ids["acme"]])
    select(driver, "filter-client", str(site.clients["acme"]))
    wait(driver, lambda d: row_ids(d) == [ids["acme"]])
    assert f"client={site.clients['acme']}" in driver.current_url
    select(driver, "filter-status", "failed")
    wait(driver, lambda d: row_ids(d) == [] and by_id(d, "jobs-empty").is_displayed())
    select(driver, "filter-status", "completed")
    wait(driver, lambda d: row_ids(d) == [ids["acme"]])

    token = site.token("globex")
    open_page(driver, site, "/", token)
    wait(driver, lambda d: row_ids(d) == [ids["globex"]])
    options = js(driver, "return [...document.querySelectorAll('#f-client option')]"
                         ".map(o => o.textContent)")  # fmt: skip
    assert options == ["globex"]
    assert "acme" not in by_id(driver, "main").text

    open_page(driver, site, f"/web/jobs/{ids['acme']}", token)
    assert by_id(driver, "job-title").text == "Job not found"
    assert by_id(driver, "job-error").text == "Job not found"
    assert "News for acme" not in driver.page_source

    open_page(driver, site, f"/web/clients/{site.clients['acme']}", token)
    assert by_id(driver, "client-title").text == "Client not found"


EVIL = """# Offer <script>window.__pwned = 1</script>

<script>window.__pwned = 2</script>

<img src="x" onerror="window.__pwned = 3">

<iframe srcdoc="<script>parent.__pwned = 4</script>"></iframe>

[Click me](javascript:window.__pwned=5) and [shout](JAVASCRIPT:window.__pwned=6)

<a href="javascript:window.__pwned=7" onclick="window.__pwned=8">html link</a>

<svg onload="window.__pwned = 9"></svg>

[A safe link](https://example.com/page) and **bold** text.
"""


def test_model_output_with_scripts_and_javascript_links_is_inert(driver: Any, site: Site,
                                                                 shot: Any) -> None:  # fmt: skip
    token = site.token("acme")
    site.provider.reply = EVIL
    with site.api(token) as http:
        job_id = http.post("/generate", json={"topic": "Summer offer", "content_type": "blog",
                                              "client_id": "acme"}).json()["job_id"]  # fmt: skip
    done = site.wait_status(token, job_id, {"completed", "failed"})
    assert done["status"] == "completed", done
    open_page(driver, site, f"/web/jobs/{job_id}", token)
    wait(driver, lambda d: d.find_elements("css selector", "#piece strong"))
    time.sleep(0.3)  # anything that could run has had its chance
    assert js(driver, "return window.__pwned") is None
    piece = by_id(driver, "piece")
    found = js(driver, """
        const p = document.getElementById('piece');
        return {
          dangerous: p.querySelectorAll('script, iframe, img, svg, object, embed').length,
          handlers: [...p.querySelectorAll('*')].flatMap(e => [...e.attributes])
                      .filter(a => a.name.startsWith('on')).length,
          hrefs: [...p.querySelectorAll('a')].map(a => a.getAttribute('href')),
        };""")
    assert found["dangerous"] == 0 and found["handlers"] == 0
    assert found["hrefs"] == ["https://example.com/page"]
    assert "<script>window.__pwned = 2</script>" in piece.text  # shown as text, inert
    assert "[Click me](javascript:window.__pwned=5)" in piece.text
    # the title (from the model, cleaned by the quality checks) is text too
    title = by_id(driver, "job-title")
    assert title.text == done["result"]["title"]
    assert title.find_elements("css selector", "*") == []
    shot("inert")
    # and the links that remain cannot run code when followed by keyboard
    for link in piece.find_elements("css selector", "a"):
        assert link.get_attribute("rel") == "noopener noreferrer nofollow"
    assert js(driver, "return window.__pwned") is None


def test_client_page_shows_effective_strategy_origins_and_history(driver: Any, site: Site,
                                                                   shot: Any) -> None:  # fmt: skip
    token = site.token("acme", "acme-kitchens")
    open_page(driver, site, "/web/clients/acme-kitchens", token)
    assert by_id(driver, "client-title").text == "acme-kitchens"
    rows = {r[0]: r[1:] for r in js(driver, """
        return [...document.querySelectorAll('#strategy tbody tr')]
          .map(r => [r.dataset.field, ...[...r.cells].slice(0).map(c => c.innerText.trim())]);
    """)}  # fmt: skip
    assert rows["tone.voice"] == ["Tone: Voice", "expert", "acme-kitchens"]
    assert rows["tone.formality"] == ["Tone: Formality", "casual", "acme"]
    assert rows["content_guidelines.min_words"][1:] == ["150", "acme"]
    assert rows["seo_focus.primary_keywords"][1:] == ["solar", "acme"]
    assert "headings" in by_id(driver, "extras").text and "acme" in by_id(driver, "extras").text
    assert "Inherits from acme" in by_id(driver, "client-chain").text
    assert len(by_id(driver, "history").find_elements("css selector", "tbody tr")) == 1
    assert not by_id(driver, "budget-section").is_displayed()  # no budgets in this API yet

    open_page(driver, site, "/web/clients/acme", token)
    history = js(driver, "return [...document.querySelectorAll('#history tbody tr')]"
                         ".map(r => r.cells[0].innerText)")  # fmt: skip
    assert history == ["1", "2"]
    shot("client")


def test_prompt_preview_calls_no_model(driver: Any, site: Site, shot: Any) -> None:
    token = site.token("acme")
    open_page(driver, site, "/", token)
    calls = site.provider.requests
    fill_order(driver, client_id=str(site.clients["acme"]), topic="Solar panels for schools",
               keywords="solar")  # fmt: skip
    by_id(driver, "preview").click()
    text = wait(driver, lambda d: by_id(d, "prompt-text").text)
    assert "Solar panels for schools" in text
    assert "strategy version 2" in by_id(driver, "prompt-meta").text
    assert js(driver, "return document.activeElement.id") == "prompt-title"
    assert site.provider.requests == calls
    assert row_ids(driver) == []
    shot("prompt")


def test_job_list_falls_back_to_polling_without_streams(driver: Any, site: Site) -> None:
    token = site.token("acme")
    site.provider.delay = 0.5
    driver.execute_cdp_cmd("Network.enable", {})
    driver.execute_cdp_cmd("Network.setBlockedURLs", {"urls": ["*/events"]})
    try:
        open_page(driver, site, "/", token)
        fill_order(driver, client_id=str(site.clients["acme"]), topic="Wind power basics")
        by_id(driver, "generate").click()
        job_id = new_row(driver, [])
        wait(driver, lambda d: row_status(d, job_id) == "completed")
        assert js(driver, "return document.body.dataset.live") == "polling"
        assert "Updating every" in by_id(driver, "live-state").text
    finally:
        driver.execute_cdp_cmd("Network.setBlockedURLs", {"urls": []})
        driver.execute_cdp_cmd("Network.disable", {})


def test_keyboard_and_labels(driver: Any, site: Site) -> None:
    from selenium.webdriver.common.action_chains import ActionChains

    token = site.token("acme")
    driver.get(site.url + "/")
    wait(driver, lambda d: by_id(d, "token").is_displayed())
    assert js(driver, "return document.activeElement.id") == "token"  # focus where to type
    ActionChains(driver).send_keys("not-a-token", Keys.ENTER).perform()
    wait(driver, lambda d: by_id(d, "token-error").is_displayed())
    assert by_id(driver, "token-error").text == "Malformed token"
    ActionChains(driver).send_keys(token, Keys.ENTER).perform()
    wait(driver, ready)

    unlabelled = js(driver, """
        return [...document.querySelectorAll('input, select, textarea')]
          .filter(e => e.offsetParent !== null && e.labels.length === 0).map(e => e.id);""")
    assert unlabelled == []
    nameless = js(driver, """
        return [...document.querySelectorAll('button, a')]
          .filter(e => e.offsetParent !== null && !e.textContent.trim()).map(e => e.outerHTML);""")
    assert nameless == []

    # order with the keyboard only: Tab through the form, Enter on Generate
    js(driver, "document.getElementById('f-client').focus()")
    order = []
    for _ in range(9):
        ActionChains(driver).send_keys(Keys.TAB).perform()
        order.append(js(driver, "return document.activeElement.id"))
    assert order[:8] == ["f-topic", "f-type", "f-length", "f-keywords", "f-priority", "f-model",
                         "generate", "preview"]  # fmt: skip
    by_id(driver, "f-topic").send_keys("Keyboard-only ordering")
    by_id(driver, "generate").send_keys(Keys.ENTER)
    job_id = new_row(driver, [])
    wait(driver, lambda d: row_status(d, job_id) == "completed")


def test_an_expired_token_asks_to_sign_in_again_with_the_reason(driver: Any,
                                                                site: Site) -> None:  # fmt: skip
    open_page(driver, site, "/", site.token("acme", ttl=2))
    assert by_id(driver, "who-label").text.startswith("Signed in as web-test")
    time.sleep(2.5)
    by_id(driver, "refresh").click()
    wait(driver, lambda d: by_id(d, "token-error").is_displayed())
    assert by_id(driver, "token-error").text == "Token expired"
    assert not by_id(driver, "main").is_displayed()
    assert js(driver, "return sessionStorage.getItem('contentgen.token')") is None
    by_id(driver, "token").send_keys(site.token("acme"), Keys.ENTER)
    wait(driver, ready)
    assert by_id(driver, "main").is_displayed()


def test_readable_on_a_phone(driver: Any, site: Site, shot: Any) -> None:
    token = site.token("acme")
    with site.api(token) as http:
        job_id = http.post("/generate", json={"topic": "Garden offices in winter",
                                              "content_type": "blog",
                                              "client_id": "acme"}).json()["job_id"]  # fmt: skip
    site.wait_status(token, job_id, {"completed"})
    size = driver.get_window_size()
    driver.set_window_size(390, 844)
    try:
        open_page(driver, site, "/", token)
        wait(driver, lambda d: row_status(d, job_id) == "completed")
        layout = js(driver, """
            const row = document.querySelector('#jobs tbody tr');
            return {overflow: document.documentElement.scrollWidth - window.innerWidth,
                    row: getComputedStyle(row).display,
                    head: document.querySelector('#jobs thead').getBoundingClientRect().height};""")
        assert layout["overflow"] <= 0, layout
        assert layout["row"] == "block" and layout["head"] <= 1
        js(driver, "document.getElementById('jobs-title').scrollIntoView()")
        shot("phone")
        open_page(driver, site, f"/web/jobs/{job_id}", token)
        wait(driver, lambda d: d.find_elements("css selector", "#piece h1, #piece h2"))
        assert js(driver, "return document.documentElement.scrollWidth - window.innerWidth") <= 0
    finally:
        driver.set_window_size(size["width"], size["height"])
