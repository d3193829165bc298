"""The web page of ``contentgen serve``: order content, watch jobs, read pieces.

``mount(app)`` adds it to a server app (``create_app`` does): the pages at ``/`` and
``/web/...``, their script and CSS at ``/static/...`` (shipped in this package: no build step,
nothing fetched from elsewhere at run time) and two API endpoints the page needs
(``GET /jobs/{id}/html``, ``GET /clients/{ref}/strategy/history``). The page itself uses only
the public HTTP API, with the bearer token the person signs in with (kept in the browser tab's
``sessionStorage``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from fastapi import FastAPI

__all__ = ["mount"]


def mount(app: FastAPI) -> None:
    """Serve the web page from ``app``."""
    from fastapi.staticfiles import StaticFiles

    from contentgen.web import api, pages

    app.include_router(api.router)
    app.include_router(pages.router)
    app.mount(pages.STATIC_URL, StaticFiles(directory=pages.STATIC_DIR), name="static")
