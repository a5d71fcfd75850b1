"""Settings: flags over `POPSTAT_*` variables over defaults; bad values are refused."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest
from pydantic import ValidationError

from flows.settings import DEFAULT_HOME, Settings, load_settings


def test_defaults_when_nothing_is_set(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("POPSTAT_HOME", raising=False)
    monkeypatch.delenv("POPSTAT_UPLOAD_MAX_BYTES", raising=False)
    settings = load_settings()
    assert settings.home == DEFAULT_HOME
    assert settings.upload_max_bytes == 20 * 1024 * 1024


def test_flags_win_over_environment_over_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("POPSTAT_HOME", "/from/env")
    monkeypatch.setenv("POPSTAT_DEADLINE_DAY", "7")
    monkeypatch.setenv("POPSTAT_AS_OF", "2026-10-06")
    monkeypatch.setenv("POPSTAT_UPLOAD_MAX_BYTES", "1000")
    monkeypatch.setenv("POPSTAT_READER_TIMEOUT_SECONDS", "2.5")
    monkeypatch.setenv("POPSTAT_LANG", "")  # empty counts as unset
    settings = load_settings({"home": Path("/from/flag"), "deadline_day": None})
    assert settings.home == Path("/from/flag")
    assert settings.deadline_day == 7
    assert settings.as_of == date(2026, 10, 6)
    assert settings.upload_max_bytes == 1000
    assert settings.reader_timeout_seconds == 2.5
    assert settings.lang == "zh"


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("POPSTAT_DEADLINE_DAY", "29"),
        ("POPSTAT_DEADLINE_DAY", "0"),
        ("POPSTAT_FIRST_MONTH", "2026-13"),
        ("POPSTAT_UPLOAD_MAX_ROWS", "0"),
        ("POPSTAT_READER_WORKERS", "-1"),
        ("POPSTAT_AS_OF", "yesterday"),
    ],
)
def test_bad_values_are_refused(monkeypatch: pytest.MonkeyPatch, variable: str, value: str) -> None:
    monkeypatch.setenv(variable, value)
    with pytest.raises(ValidationError, match=variable.removeprefix("POPSTAT_").lower()):
        load_settings()


def test_the_secret_stays_out_of_the_repr() -> None:
    settings = Settings(secret_key="very-secret-key")
    assert "very-secret-key" not in repr(settings)
    assert settings.secret == b"very-secret-key"


def test_the_command_names_a_bad_setting_and_stops(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    from flows.cli import main

    monkeypatch.setenv("POPSTAT_DEADLINE_DAY", "40")
    with pytest.raises(SystemExit) as stopped:
        main(["issues", "list", "--home", str(tmp_path)])
    assert stopped.value.code == 2
    err = capsys.readouterr().err
    assert "invalid setting deadline_day (POPSTAT_DEADLINE_DAY)" in err
    assert "28" in err
