"""Settings are read from DOORSTEP_* variables, converted, and refused with a clear message when wrong."""

from __future__ import annotations

from pathlib import Path

import pytest

from server.settings import Settings, SettingsError, settings_table


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
    with pytest.raises(SettingsError, match=f"^{name}: "):
        Settings.from_env({name: value})


def test_a_mistyped_variable_stops_the_start_and_names_what_was_meant() -> None:
    """DOORSTEP_RETENTION_YEAR=1 once ran with the default of three years, unseen."""
    with pytest.raises(SettingsError, match=r"DOORSTEP_RETENTION_YEAR \(did you mean DOORSTEP_RETENTION_YEARS\?\)"):
        Settings.from_env({"DOORSTEP_RETENTION_YEAR": "1"})
    with pytest.raises(SettingsError, match="unknown setting DOORSTEP_NO_SUCH_THING"):
        Settings.from_env({"DOORSTEP_NO_SUCH_THING": "1"})


def test_other_variables_and_the_test_suite_s_own_are_left_alone() -> None:
    assert Settings.from_env({"HOME": "/root", "DOORSTEP_TEST_DATABASE_URL": "postgresql://x"}) == Settings()


def test_a_rule_of_the_settings_names_the_variable() -> None:
    with pytest.raises(SettingsError, match=r"^DOORSTEP_OUTREACH_DAYS: outreach_days must be a day or more"):
        Settings.from_env({"DOORSTEP_OUTREACH_DAYS": "0"})


def test_the_operator_docs_list_exactly_the_settings_there_are() -> None:
    text = (Path(__file__).resolve().parents[2] / "docs" / "operations.md").read_text()
    listed = text.split("<!-- settings:begin -->\n", 1)[1].split("<!-- settings:end -->", 1)[0]
    assert listed == settings_table(), "run: python -m server.settings, and paste it into docs/operations.md"
    for name in Settings.__struct_fields__:
        assert f"`DOORSTEP_{name.upper()}`" in listed
