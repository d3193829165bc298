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
