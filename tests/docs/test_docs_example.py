"""docs/strategies.md stays true: its example YAML imports as written (it is also
examples/clients.yaml), its `clients show` sample is what the CLI prints, its variables table is
TEMPLATE_VARIABLES, and its Python example runs."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import structlog
from typer.testing import CliRunner, Result

from contentgen.cli.app import app
from contentgen.instructions.templates import TEMPLATE_VARIABLES

ROOT = Path(__file__).resolve().parents[2]
DOCS = (ROOT / "docs" / "strategies.md").read_text(encoding="utf-8")
EXAMPLE = ROOT / "examples" / "clients.yaml"
LOCATION = "tonys-pizza-denver"


def blocks(lang: str) -> list[str]:
    return re.findall(rf"^```{lang}\n(.*?)^```$", DOCS, flags=re.M | re.S)


@pytest.fixture(autouse=True)
def _reset_logging() -> Iterator[None]:
    yield
    structlog.reset_defaults()


def cli(*args: str) -> Result:
    result = CliRunner().invoke(app, list(args))
    assert result.exit_code == 0, (result.stdout, result.stderr)
    return result


def show(name: str) -> dict[str, Any]:
    return json.loads(cli("clients", "show", name, "--json").stdout)  # type: ignore[no-any-return]


@pytest.fixture
def imported(tmp_path: Path) -> list[str]:
    """The docs' example, written to a file and imported through the CLI."""
    [example] = blocks("yaml")
    path = tmp_path / "clients.yaml"
    path.write_text(example, encoding="utf-8")
    return cli("clients", "import", str(path)).stdout.splitlines()


def test_the_docs_have_one_yaml_example_and_it_is_examples_clients_yaml() -> None:
    assert len(blocks("yaml")) == 1
    assert blocks("yaml")[0] == EXAMPLE.read_text(encoding="utf-8")


def test_the_example_imports_as_written(imported: list[str], tmp_path: Path) -> None:
    assert imported[0] == "brightside: client created"
    assert f"{LOCATION}: client created under tonys-pizza" in imported
    assert f"{LOCATION}: local template v1 is active" in imported
    tree = {c["name"]: c for c in json.loads(cli("clients", "list", "--json").stdout)}
    assert tree["tonys-pizza"]["parent_id"] == tree["brightside"]["id"]
    assert tree[LOCATION]["parent_id"] == tree["tonys-pizza"]["id"]

    setup = show(LOCATION)
    config = setup["config"]
    guidelines = {k: v for k, v in config["content_guidelines"].items() if v is not None}
    assert guidelines == {
        "min_words": 800, "max_words": 1200, "citation_required": True,
        "required_sections": ["Introduction", "Our Ovens", "On the Menu", "Visit Us"],
    }  # fmt: skip
    assert config["seo_focus"] == {
        "primary_keywords": ["wood-fired pizza denver", "pizza near union station"],
        "keyword_density": 1.5, "meta_description_length": 155,
    }  # fmt: skip
    assert config["tone"] == {"formality": "professional", "voice": "warm", "engagement": "playful"}
    assert setup["origins"] == {
        "content_guidelines.min_words": LOCATION,
        "content_guidelines.max_words": "brightside",
        "content_guidelines.required_sections": "tonys-pizza",
        "content_guidelines.citation_required": "brightside",
        "seo_focus.primary_keywords": LOCATION,
        "seo_focus.keyword_density": "brightside",
        "seo_focus.meta_description_length": "brightside",
        "tone.formality": "brightside",
        "tone.voice": "tonys-pizza",
        "tone.engagement": "tonys-pizza",
    }
    assert {k: v["origin"] for k, v in setup["seo_rules"].items()} == {
        "city": LOCATION, "title-length": "brightside", "internal-links": "brightside",
    }  # fmt: skip
    assert {k: v["origin"] for k, v in setup["preferences"].items()} == {
        "sign-off": "tonys-pizza", "avoid": "brightside", "spelling": "brightside",
    }  # fmt: skip
    assert setup["template_origins"] == {"blog": "brightside", "local": LOCATION}
    assert show("tonys-pizza")["config"]["tone"]["formality"] == "professional"

    blog = json.loads(cli("prompt", "--topic", "Why our dough rests for 48 hours", "-c",
                          LOCATION, "--json").stdout)  # fmt: skip
    assert "Tone: professional, warm, playful." in blog["prompt"]  # inherited
    assert "wood-fired pizza denver, pizza near union station" in blog["prompt"]  # its own
    assert "neapolitan" not in blog["prompt"]
    assert "- SEO: Name Denver in the first paragraph." in blog["prompt"]
    assert "- Style (sign-off): Buon appetito!" in blog["prompt"]
    assert blog["metadata"]["template_version"] == "v1"
    local = json.loads(cli("prompt", "--topic", "Pizza near Union Station", "-t", "local",
                           "-c", LOCATION, "--json").stdout)  # fmt: skip
    assert local["prompt"].startswith(f"Write a local landing page in Markdown for {LOCATION}")

    again = cli("clients", "import", str(tmp_path / "clients.yaml")).stdout.splitlines()
    assert again == ["brightside: unchanged", "tonys-pizza: unchanged", f"{LOCATION}: unchanged"]


def test_the_docs_prompt_sample_is_what_the_cli_prints(imported: list[str]) -> None:
    sample = next(b for b in blocks("console") if "$ contentgen prompt --topic" in b)
    lines = sample.split("$ contentgen prompt", 1)[1].splitlines()[1:]
    printed = cli("prompt", "--topic", "Why our dough rests for 48 hours", "-c", LOCATION).stdout
    shown = [line for line in lines if line != "..."]
    assert shown and all(line in printed.splitlines() for line in shown)
    assert printed.startswith(shown[0] + "\n")


def test_the_docs_clients_show_sample_is_what_the_cli_prints(imported: list[str]) -> None:
    sample = next(b for b in blocks("console") if f"$ contentgen clients show {LOCATION}" in b)
    documented = sample.splitlines()[2:]  # after the command and the line with the UUID
    printed = cli("clients", "show", LOCATION).stdout.splitlines()
    assert printed[0].startswith(f"{LOCATION} (")
    assert printed[1:] == documented


def test_the_documented_variables_are_the_template_variables() -> None:
    section = DOCS.split("### Variables", 1)[1].split("###", 1)[0]
    names = re.findall(r"^\| `(\w+)` \|", section, flags=re.M)
    assert sorted(names) == sorted(TEMPLATE_VARIABLES)
    assert len(names) == len(set(names))


def test_the_python_example_runs(imported: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    [code] = blocks("python")
    capsys.readouterr()
    exec(compile(code, "docs/strategies.md", "exec"), {"__name__": "__main__"})
    assert capsys.readouterr().out.splitlines()[-2:] == ["tonys-pizza", "1 v1"]
