"""`contentgen cache stats|clear`."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from contentgen.cli.common import run, sub_app
from contentgen.cli.options import AsJson
from contentgen.cli.output import print_json, say

if TYPE_CHECKING:
    from contentgen.client.local import Client

app = sub_app("The strategy and prompt cache.")


@app.command("stats")
def stats(as_json: AsJson = False) -> None:
    """Hits, misses and size of the cache."""

    async def work(cg: Client) -> Any:
        return cg.settings.cache_url, await cg.cache.stats()

    url, st = run(work)
    url = _without_password(url)
    if as_json:
        print_json({"url": url, "hits": st.hits, "misses": st.misses, "size": st.size})
        return
    say(url)
    say(f"hits {st.hits}  misses {st.misses}  size {st.size} keys")


@app.command("clear")
def clear(as_json: AsJson = False) -> None:
    """Empty the cache (strategies and prompts are rebuilt on demand)."""

    async def work(cg: Client) -> Any:
        await cg.cache.clear()

    run(work)
    if as_json:
        print_json({"cleared": True})
        return
    say("cache cleared")


def _without_password(url: str) -> str:
    """The cache URL fit to print: a redis password is replaced by ``***``."""
    from urllib.parse import urlsplit, urlunsplit

    parts = urlsplit(url)
    if parts.password is None:
        return url
    user = f"{parts.username}:" if parts.username else ":"
    host = parts.hostname or ""
    netloc = f"{user}***@{host}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit(parts._replace(netloc=netloc))
