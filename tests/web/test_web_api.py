"""The web page's server side, over real uvicorn: its two API endpoints (scoped and
authenticated like the rest of the API), the page shells and their headers, the static files
shipped in the package."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import quote

import httpx

from contentgen.web import pages

from .conftest import Site

WEB = Path(pages.__file__).parent


def queue(site: Site, token: str, client: str, topic: str = "Solar panels for offices") -> str:
    with site.api(token) as http:
        response = http.post("/generate", json={"topic": topic, "content_type": "blog",
                                                "client_id": client})  # fmt: skip
        assert response.status_code == 200, response.text
        job_id: str = response.json()["job_id"]
        return job_id


def test_piece_html_is_the_sanitised_rendering_of_the_markdown(site: Site) -> None:
    token = site.token("acme")
    site.provider.reply = "# Hello <script>x()</script>\n\n[go](javascript:x()) **ok**\n"
    job_id = queue(site, token, "acme")
    done = site.wait_status(token, job_id, {"completed"})
    with site.api(token) as http:
        response = http.get(f"/jobs/{job_id}/html")
    assert response.status_code == 200
    body = response.json()
    assert body == {
        "job_id": job_id,
        "title": done["result"]["title"],
        "html": "<h1>Hello &lt;script&gt;x()&lt;/script&gt;</h1>\n"
                "<p>[go](javascript:x()) <strong>ok</strong></p>\n",
        "updated_at": done["updated_at"],
    }  # fmt: skip


def test_piece_html_of_a_job_without_content_is_409(site: Site) -> None:
    token = site.token("acme")
    site.provider.fail_next(1, 400, "refused")
    job_id = queue(site, token, "acme")
    assert site.wait_status(token, job_id, {"failed", "completed"})["status"] == "failed"
    with site.api(token) as http:
        response = http.get(f"/jobs/{job_id}/html")
    assert response.status_code == 409
    assert response.json() == {"error": f"job {job_id} has no content (failed)",
                               "details": {"status": "failed"}}  # fmt: skip


def test_piece_html_is_scoped_and_needs_a_token(site: Site) -> None:
    job_id = queue(site, site.token("acme"), "acme")
    with site.api(site.token("globex")) as http:
        other = http.get(f"/jobs/{job_id}/html")
        assert other.status_code == 404 and other.json() == {"error": "Job not found"}
        missing = http.get("/jobs/not-a-uuid/html")
        assert missing.status_code == 404 and missing.json() == {"error": "Job not found"}
    anonymous = httpx.get(f"{site.url}/jobs/{job_id}/html")
    assert anonymous.status_code == 401
    assert anonymous.json()["details"] == {"reason": "missing"}


def test_strategy_history_lists_versions_and_entries(site: Site) -> None:
    with site.api(site.token("acme")) as http:
        body = http.get("/clients/acme/strategy/history").json()
        assert [v["version"] for v in body["versions"]] == [1, 2]
        assert [v["active"] for v in body["versions"]] == [False, True]
        assert [(h["version"], h["action"]) for h in body["history"]][:2] == [
            (1, "created"), (2, "created")]  # fmt: skip
        assert any("tone.voice" in change for change in body["history"][1]["changes"])
        assert http.get("/clients/globex/strategy/history").json() == {
            "error": "Client not found"}  # fmt: skip
    with site.api(site.token("globex")) as http:
        body = http.get("/clients/globex/strategy/history").json()
        assert body == {"versions": [], "history": []}


def test_pages_need_no_token_and_forbid_inline_code(site: Site) -> None:
    for path in ("/", "/web/jobs/abc", "/web/clients", "/web/clients/acme"):
        response = httpx.get(site.url + path)
        assert response.status_code == 200, path
        assert response.headers["content-type"].startswith("text/html")
        csp = response.headers["content-security-policy"]
        assert "script-src 'self'" in csp and "default-src 'none'" in csp
        assert "unsafe-inline" not in csp
        assert response.headers["x-content-type-options"] == "nosniff"
        assert "<script>" not in response.text  # no inline script at all
        assert re.search(r"<script type=\"module\" src=\"/static/js/\w+\.js\?v=\w+\">",
                         response.text)  # fmt: skip


def test_page_parameters_are_escaped(site: Site) -> None:
    evil = '"><img src=x onerror=alert(1)>'
    response = httpx.get(site.url + "/web/jobs/" + quote(evil, safe=""))
    assert response.status_code == 200
    assert "<img" not in response.text
    assert 'data-job-id="&#34;&gt;&lt;img src=x onerror=alert(1)&gt;"' in response.text


def test_static_files_are_served_from_the_package_and_fetch_nothing_elsewhere(site: Site) -> None:
    files = sorted(p for p in (WEB / "static").rglob("*") if p.is_file())
    assert {p.name for p in files} >= {"app.css", "api.js", "home.js", "job.js", "client.js"}
    for path in files:
        url = f"{site.url}/static/{path.relative_to(WEB / 'static').as_posix()}"
        response = httpx.get(url)
        assert response.status_code == 200, url
        assert response.content == path.read_bytes()
        if path.suffix == ".js":
            assert "javascript" in response.headers["content-type"]
    for path in [*files, *(WEB / "templates").glob("*.html")]:
        text = path.read_text(encoding="utf-8")
        assert not re.search(r"(https?:)?//[a-z0-9.-]+\.[a-z]{2,}", text, re.IGNORECASE), path
        assert "innerHTML" not in text or path.name == "job.js", path
        assert "eval(" not in text and "new Function" not in text, path


def test_openapi_lists_the_web_endpoints_but_not_the_pages(site: Site) -> None:
    schema = httpx.get(f"{site.url}/openapi.json").json()
    assert "/jobs/{job_id}/html" in schema["paths"]
    assert "/clients/{ref}/strategy/history" in schema["paths"]
    assert not any(p == "/" or p.startswith(("/web", "/static")) for p in schema["paths"])
