"""Settings: one documented declaration per field, defaults that work, clear errors."""

from __future__ import annotations

from dataclasses import fields

import pytest

from backdrop.settings import MIB, SETTINGS, Settings, SettingsError


def test_every_settings_field_is_declared_once_with_help():
    declared = [setting.field for setting in SETTINGS]
    assert sorted(declared) == sorted(f.name for f in fields(Settings))
    assert len(set(declared)) == len(declared)
    for setting in SETTINGS:
        assert setting.variable == f"BACKDROP_{setting.field.upper()}"
        assert len(setting.help) > 10 and setting.help.strip() == setting.help


def test_declared_defaults_are_the_dataclass_defaults():
    defaults = Settings()
    for setting in SETTINGS:
        assert getattr(defaults, setting.field) == setting.default


def test_an_empty_environment_gives_working_defaults():
    settings = Settings.from_env({})
    assert settings == Settings()
    assert settings.database_url == "sqlite:///var/backdrop.db"
    assert settings.broker_url is None
    assert settings.admin_token is None
    assert settings.max_body_bytes == 10 * MIB
    assert (settings.log_level, settings.log_format) == ("INFO", "text")


def test_variables_override_defaults_and_are_coerced():
    settings = Settings.from_env(
        {
            "BACKDROP_DATABASE_URL": "postgresql://db/backdrop",
            "BACKDROP_BROKER_URL": "redis://localhost:6379/0",
            "BACKDROP_ADMIN_TOKEN": " secret ",
            "BACKDROP_MAX_BODY_BYTES": "2048",
            "BACKDROP_LOG_LEVEL": "debug",
            "BACKDROP_LOG_FORMAT": "json",
            "UNRELATED": "ignored",
        }
    )
    assert settings.database_url == "postgresql://db/backdrop"
    assert settings.broker_url == "redis://localhost:6379/0"
    assert settings.admin_token == "secret"
    assert settings.max_body_bytes == 2048
    assert settings.log_level == "DEBUG"
    assert settings.log_format == "json"


def test_empty_optional_variables_mean_unset():
    settings = Settings.from_env({"BACKDROP_BROKER_URL": "", "BACKDROP_ADMIN_TOKEN": "  "})
    assert settings.broker_url is None
    assert settings.admin_token is None


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("BACKDROP_MAX_BODY_BYTES", "ten"),
        ("BACKDROP_MAX_BODY_BYTES", "0"),
        ("BACKDROP_MAX_BODY_BYTES", "-5"),
        ("BACKDROP_MAX_BODY_BYTES", "1.5"),
        ("BACKDROP_LOG_FORMAT", "xml"),
        ("BACKDROP_WORKER_METRICS_PORT", "0"),
        ("BACKDROP_WORKER_METRICS_PORT", "70000"),
        ("BACKDROP_WORKER_METRICS_PORT", "http"),
    ],
)
def test_bad_values_raise_settings_error_naming_the_variable(variable, value):
    with pytest.raises(SettingsError) as caught:
        Settings.from_env({variable: value})
    assert variable in str(caught.value)
    assert repr(value) in str(caught.value)


def test_the_worker_metrics_port_is_off_unless_set():
    assert Settings.from_env({}).worker_metrics_port is None
    assert Settings.from_env({"BACKDROP_WORKER_METRICS_PORT": ""}).worker_metrics_port is None
    assert Settings.from_env({"BACKDROP_WORKER_METRICS_PORT": "9540"}).worker_metrics_port == 9540


def test_settings_are_frozen():
    with pytest.raises(AttributeError):
        Settings().log_level = "DEBUG"  # type: ignore[misc]
