"""Settings are read from DOORSTEP_* variables, converted, and refused with a clear message when wrong."""

from __future__ import annotations

from pathlib import Path

import pytest

from server.settings import Settings, SettingsError


def test_defaults_use_sqlite_in_the_data_directory(tmp_path: Path) -> None:
    settings = Settings.from_env({"DOORSTEP_DATA_DIR": str(tmp_path)})
    assert settings.resolved_database_url == f"sqlite+aiosqlite:///{tmp_path.resolve() / 'doorstep.db'}"
    assert settings.is_sqlite
    assert settings.keys_dir == tmp_path / "keys"


def test_values_are_converted_from_strings() -> None:
    settings = Settings.from_env(
        {
            "DOORSTEP_DATABASE_URL": "postgresql+asyncpg://u@h/db",
            "DOORSTEP_SESSION_IDLE_MINUTES": "30",
            "DOORSTEP_DEMO": "true",
            "DOORSTEP_ENVIRONMENT": "test",
        }
    )
    assert settings.session_idle_minutes == 30
    assert settings.demo is True
    assert settings.environment == "test"
    assert not settings.is_sqlite


@pytest.mark.parametrize(
    ("name", "value"),
    [("DOORSTEP_SESSION_IDLE_MINUTES", "half an hour"), ("DOORSTEP_ENVIRONMENT", "staging")],
)
def test_a_wrong_value_names_the_setting(name: str, value: str) -> None:
    with pytest.raises(SettingsError, match=name.removeprefix("DOORSTEP_").lower()):
        Settings.from_env({name: value})


def test_unrelated_variables_are_ignored() -> None:
    assert Settings.from_env({"DOORSTEP_NO_SUCH_THING": "1", "HOME": "/root"}) == Settings()
