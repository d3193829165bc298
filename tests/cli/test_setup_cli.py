"""`contentgen rules|prefs|templates ...` and `contentgen cache stats|clear`."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from typer.testing import Result

from contentgen.instructions.templates import TEMPLATE_VARIABLES

Cli = Callable[..., Result]


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def family(cli: Cli) -> None:
    cli("clients", "add", "agency")
    cli("clients", "add", "brand", "--parent", "agency")


def prompt(cli: Cli, client: str, *args: str) -> dict[str, object]:
    result = cli("prompt", "--topic", "Pizza ovens at home", "-c", client, "--json", *args)
    return json.loads(result.stdout)  # type: ignore[no-any-return]


def test_rules_set_list_remove_with_inheritance(cli: Cli) -> None:
    family(cli)
    assert cli("rules", "set", "agency", "title", "Titles under 60 chars").stdout.strip() == (
        "rule 'title' set"
    )
    cli("rules", "set", "agency", "links", "Two internal links")
    cli("rules", "set", "brand", "title", "Name the [city] in the title")
    rules = json.loads(cli("rules", "list", "brand", "--json").stdout)
    assert rules == {
        "title": {"value": "Name the [city] in the title", "origin": "brand"},
        "links": {"value": "Two internal links", "origin": "agency"},
    }
    table = cli("rules", "list", "brand").stdout
    assert "Name the [city] in the title" in table  # user text is not read as markup
    assert "SEO rule: Name the [city] in the title" in str(prompt(cli, "brand")["prompt"])
    cli("rules", "remove", "brand", "title")
    assert json.loads(cli("rules", "list", "brand", "--json").stdout)["title"]["origin"] == (
        "agency"
    )
    assert "has no rule named 'title'" in cli("rules", "remove", "brand", "title", code=1).stderr
    assert "must not be empty" in cli("rules", "set", "brand", "x", " ", code=2).stderr
    assert "no rules (own or inherited)" in cli("rules", "list", "default").stdout


def test_prefs_set_list_remove_with_inheritance(cli: Cli) -> None:
    family(cli)
    cli("prefs", "set", "agency", "avoid", "jargon")
    cli("prefs", "set", "brand", "sign-off", "Ciao!")
    prefs = json.loads(cli("prefs", "list", "brand", "--json").stdout)
    assert prefs == {
        "avoid": {"value": "jargon", "origin": "agency"},
        "sign-off": {"value": "Ciao!", "origin": "brand"},
    }
    assert "Preference (avoid): jargon" in str(prompt(cli, "brand")["prompt"])
    assert cli("prefs", "remove", "agency", "avoid").stdout.strip() == "preference 'avoid' removed"
    assert "avoid" not in json.loads(cli("prefs", "list", "brand", "--json").stdout)
    assert "has no preference 'avoid'" in cli("prefs", "remove", "agency", "avoid", code=1).stderr


def test_templates_set_list_and_variables(cli: Cli, tmp_path: Path) -> None:
    family(cli)
    one = write(tmp_path / "one.j2", "Post about {{ topic }} for {{ client_name }}.")
    two = write(tmp_path / "two.j2", "Second: {{ topic }}, {{ tone.voice }} voice.")
    assert cli("templates", "set", "agency", "blog", str(one)).stdout.strip() == (
        "blog template v1 is active"
    )
    body = prompt(cli, "brand")
    assert body["prompt"] == "Post about Pizza ovens at home for brand.\n"
    assert body["metadata"]["template_version"] == "v1"  # type: ignore[index]
    cli("strategies", "set", "agency", "--voice", "warm")
    cli("templates", "set", "agency", "blog", str(two))
    assert prompt(cli, "brand")["prompt"] == "Second: Pizza ovens at home, warm voice.\n"
    listing = cli("templates", "list", "agency").stdout
    assert "Post about {{ topic }}" in listing and "Second: {{ topic }}" in listing
    assert "no own templates" in cli("templates", "list", "brand").stdout
    shown = cli("clients", "show", "brand").stdout
    assert "blog: v2  (inherited from agency)" in shown
    assert "social: built-in" in shown and "local: built-in" in shown
    variables = cli("templates", "variables").stdout.split()
    assert variables == sorted(TEMPLATE_VARIABLES)


def test_bad_templates_are_refused_with_the_line(cli: Cli, tmp_path: Path) -> None:
    family(cli)
    unknown = write(tmp_path / "a.j2", "About {{ topic }}\n\nFor {{ celebrity }}\n")
    result = cli("templates", "set", "agency", "blog", str(unknown), code=2)
    assert result.stderr.startswith("error: template: line 3: unknown variable 'celebrity'")
    broken = write(tmp_path / "b.j2", "About {{ topic }}\n{% for k in keywords %}\n")
    assert "error: template: line " in cli("templates", "set", "agency", "blog", str(broken),
                                           code=2).stderr  # fmt: skip
    attr = write(tmp_path / "c.j2", "About {{ topic }}\n{{ tone.colour }}\n")
    assert "line 2:" in cli("templates", "set", "agency", "blog", str(attr), code=2).stderr
    ok = write(tmp_path / "ok.j2", "{{ topic }}")
    assert "'video' is not one of" in cli("templates", "set", "agency", "video", str(ok),
                                          code=2).stderr  # fmt: skip
    assert "does not exist" in cli("templates", "set", "agency", "blog", "nope.j2",
                                   code=2).stderr  # fmt: skip
    assert "no own templates" in cli("templates", "list", "agency").stdout


def cache_stats(cli: Cli) -> dict[str, object]:
    return json.loads(cli("cache", "stats", "--json").stdout)  # type: ignore[no-any-return]


def test_cache_stats_count_prompt_hits_and_misses_and_clear_resets(cli: Cli) -> None:
    family(cli)
    cli("cache", "clear")
    empty = cache_stats(cli)
    assert (empty["hits"], empty["misses"], empty["size"]) == (0, 0, 0)
    assert str(empty["url"]).startswith("disk://")
    prompt(cli, "brand")
    first = cache_stats(cli)
    assert first["misses"] == 2 and first["hits"] == 0  # the setup and the prompt
    assert first["size"] == 2
    prompt(cli, "brand")  # a second process: both come from the disk cache
    second = cache_stats(cli)
    assert (second["hits"], second["misses"], second["size"]) == (2, 2, 2)
    assert "hits 2  misses 2  size 2 keys" in cli("cache", "stats").stdout
    # a change drops the client's cached setup in the shared cache, for the next process too
    cli("strategies", "set", "agency", "--voice", "stern")
    assert "Tone: stern." in str(prompt(cli, "brand")["prompt"])
    assert cli("cache", "clear").stdout.strip() == "cache cleared"
    cleared = cache_stats(cli)
    assert (cleared["hits"], cleared["misses"], cleared["size"]) == (0, 0, 0)


def test_cache_stats_never_shows_a_password() -> None:
    from contentgen.cli.cache_cmd import _without_password

    assert _without_password("redis://:s3cret@localhost:6379/0") == "redis://:***@localhost:6379/0"
    assert _without_password("rediss://user:pw@h/1") == "rediss://user:***@h/1"
    assert _without_password("disk:///tmp/cache") == "disk:///tmp/cache"
