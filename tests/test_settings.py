from __future__ import annotations

from pathlib import Path

import pytest

from contentgen.settings import Settings


def test_defaults_live_under_the_home_dir(tmp_path: Path) -> None:
    settings = Settings()
    home = tmp_path / "home"  # set by the autouse fixture
    assert settings.home == home
    assert settings.database_url == f"sqlite:///{home / 'contentgen.db'}"
    assert settings.cache_url == f"disk://{home / 'cache'}"
    assert settings.model is None and settings.concurrency == 4


def test_environment_dotenv_and_toml(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "contentgen.toml").write_text('model = "openai/gpt-4o-mini"\nconcurrency = 7\n')
    (tmp_path / ".env").write_text("CONTENTGEN_CONCURRENCY=9\n")
    assert Settings().model == "openai/gpt-4o-mini"
    assert Settings().concurrency == 9  # .env beats the toml file
    monkeypatch.setenv("CONTENTGEN_CONCURRENCY", "11")
    assert Settings().concurrency == 11  # the environment beats both
    monkeypatch.setenv("CONTENTGEN_CATALOGUE", '{"cost": "openai/gpt-4o-mini"}')
    assert Settings().catalogue == {"cost": "openai/gpt-4o-mini"}


def test_api_key_is_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CONTENTGEN_API_KEY", "sk-secret-123")
    settings = Settings()
    assert settings.api_key is not None
    assert settings.api_key.get_secret_value() == "sk-secret-123"
    assert "sk-secret-123" not in repr(settings) and "sk-secret-123" not in str(settings)


# --- issue 7, points 8 and 21: validation, errors, the effective settings and their origin --


def test_every_setting_is_in_the_readme_with_its_format() -> None:
    readme = (Path(__file__).parents[1] / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Settings", 1)[1].split("\n## ", 1)[0]
    for name, info in Settings.model_fields.items():
        row = next((line for line in section.splitlines()
                    if line.startswith(f"| `CONTENTGEN_{name.upper()}`")), None)  # fmt: skip
        assert row is not None, f"README's settings table lacks CONTENTGEN_{name.upper()}"
        assert info.description, name
        assert len(row.split("|")) >= 4 and row.split("|")[2].strip(), row


def test_log_level_is_checked_and_normalised(monkeypatch: pytest.MonkeyPatch) -> None:
    from contentgen.errors import ConfigurationError
    from contentgen.settings import load_settings

    monkeypatch.setenv("CONTENTGEN_LOG_LEVEL", "info")
    assert load_settings().log_level == "INFO"
    monkeypatch.setenv("CONTENTGEN_LOG_LEVEL", "verbose")
    with pytest.raises(ConfigurationError, match="CONTENTGEN_LOG_LEVEL"):
        load_settings()


@pytest.mark.parametrize("url", ["disk:///tmp/x", "memory://", "redis://h:6379/0", "rediss://h"])
def test_known_cache_urls_are_accepted(url: str) -> None:
    assert Settings(cache_url=url).cache_url == url


def test_an_unknown_cache_url_scheme_is_refused_by_the_library_too() -> None:
    from contentgen.errors import ConfigurationError
    from contentgen.settings import load_settings

    with pytest.raises(ConfigurationError, match="unknown scheme 'ftp'"):
        load_settings(cache_url="ftp://cache")


def test_effective_settings_say_where_each_value_came_from(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from contentgen.settings_report import effective_settings

    (tmp_path / "contentgen.toml").write_text('model = "openai/gpt-4o-mini"\nconcurrency = 7\n')
    (tmp_path / ".env").write_text("CONTENTGEN_CONCURRENCY=9\nCONTENTGEN_LLM_RETRIES=5\n")
    monkeypatch.setenv("CONTENTGEN_API_KEY", "sk-very-secret")
    monkeypatch.setenv("CONTENTGEN_CACHE_URL", "redis://user:hunter2@cache:6379/0")
    views = {v.name: v for v in effective_settings(Settings())}
    assert set(views) == set(Settings.model_fields)
    assert (views["model"].origin, views["model"].value) == ("contentgen.toml",
                                                              "openai/gpt-4o-mini")  # fmt: skip
    assert (views["concurrency"].origin, views["concurrency"].value) == (".env", 9)
    assert views["llm_retries"].origin == ".env"
    assert (views["api_key"].origin, views["api_key"].value) == ("environment", "***")
    assert views["cache_url"].value == "redis://user:***@cache:6379/0"
    assert views["home"].origin == "environment"  # set by the autouse fixture
    assert (views["llm_timeout"].origin, views["llm_timeout"].value) == ("default", 120.0)
    assert views["concurrency"].env == "CONTENTGEN_CONCURRENCY"


def test_precedence_is_arguments_environment_dotenv_toml(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "contentgen.toml").write_text("llm_retries = 2\nconcurrency = 3\nmodel = 'a/t'\n")
    (tmp_path / ".env").write_text("CONTENTGEN_CONCURRENCY=5\nCONTENTGEN_MODEL=a/d\n")
    monkeypatch.setenv("contentgen_model", "a/e")  # any case
    settings = Settings(llm_timeout=9)
    assert (settings.llm_retries, settings.concurrency, settings.model) == (2, 5, "a/e")
    assert settings.llm_timeout == 9 and Settings(model="a/k").model == "a/k"


def test_dotenv_syntax() -> None:
    from contentgen.settings_sources import parse_dotenv

    text = (
        "# a comment\n\nexport CONTENTGEN_MODEL=openai/gpt-4o-mini  # trailing comment\n"
        "CONTENTGEN_API_KEY='sk-#not-a-comment'\n"
        "CONTENTGEN_CATALOGUE=\"{\\\"cost\\\": \\\"x\\\"}\"\n"
        "not a line\n"
    )
    assert parse_dotenv(text) == {
        "CONTENTGEN_MODEL": "openai/gpt-4o-mini",
        "CONTENTGEN_API_KEY": "sk-#not-a-comment",
        "CONTENTGEN_CATALOGUE": '{"cost": "x"}',
    }


def test_mappings_are_json_in_the_environment_and_native_in_toml(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from contentgen.errors import ConfigurationError

    (tmp_path / "contentgen.toml").write_text('rpm_limits = {"openai/gpt-4o-mini" = 500}\n')
    assert Settings().rpm_limits == {"openai/gpt-4o-mini": 500}
    monkeypatch.setenv("CONTENTGEN_RPM_LIMITS", "not json")
    expected = r"CONTENTGEN_RPM_LIMITS \(from the environment\) is not valid JSON"
    with pytest.raises(ConfigurationError, match=expected):
        Settings()


def test_settings_do_not_import_pydantic_settings(tmp_path: Path) -> None:
    import subprocess
    import sys

    code = "import contentgen.settings, sys; print('pydantic_settings' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True, cwd=tmp_path)  # fmt: skip
    assert done.stdout.strip() == "False"
