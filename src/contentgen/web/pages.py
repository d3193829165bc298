"""The HTML pages: server-rendered shells (jinja2, autoescaped) that carry no data. Each page
loads one script that signs in with a token and fetches everything from the public HTTP API,
so the pages need no token themselves and show nothing a token could not fetch anyway.

Every page is sent with a Content-Security-Policy that allows scripts, styles and requests
from this server only (no inline scripts or styles, no frames, no plugins): even a piece whose
sanitising failed could not run code in the page.
"""

from __future__ import annotations

import hashlib
from functools import lru_cache
from pathlib import Path
from typing import Any

from fastapi import APIRouter
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, select_autoescape

HERE = Path(__file__).parent
STATIC_DIR = HERE / "static"
STATIC_URL = "/static"

CSP = "; ".join([
    "default-src 'none'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' data:",
    "connect-src 'self'",
    "form-action 'self'",
    "base-uri 'none'",
    "frame-ancestors 'none'",
])  # fmt: skip
HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}

router = APIRouter(include_in_schema=False)


@lru_cache(maxsize=1)
def _env() -> Environment:
    env = Environment(
        loader=FileSystemLoader(HERE / "templates"),
        autoescape=select_autoescape(["html"], default=True),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.globals["static"] = static_url
    return env


@lru_cache(maxsize=64)
def static_url(name: str) -> str:
    """``/static/NAME?v=HASH``: the content hash makes a changed file a new URL."""
    digest = hashlib.sha256((STATIC_DIR / name).read_bytes()).hexdigest()[:12]
    return f"{STATIC_URL}/{name}?v={digest}"


def render(template: str, **context: Any) -> HTMLResponse:
    html = _env().get_template(template).render(**context)
    return HTMLResponse(html, headers=HEADERS)


@router.get("/")
async def home() -> HTMLResponse:
    """Order a piece, preview its prompt, watch the jobs."""
    return render("home.html", page="home", script="home.js")


@router.get("/web/jobs/{job_id}")
async def job_page(job_id: str) -> HTMLResponse:
    return render("job.html", page="job", script="job.js", job_id=job_id)


@router.get("/web/clients")
async def clients_page() -> HTMLResponse:
    return render("clients.html", page="clients", script="clients.js")


@router.get("/web/clients/{ref}")
async def client_page(ref: str) -> HTMLResponse:
    return render("client.html", page="clients", script="client.js", ref=ref)
