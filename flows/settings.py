"""The one typed settings object, and the only place that reads the environment.

Precedence: command-line flags over `POPSTAT_*` environment variables over the
defaults below. Every other module receives what it needs as arguments.
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

DEVELOPMENT_SECRET = "popstat-development-key-do-not-use-in-production"
DEFAULT_HOME = Path("popstat-data")


@dataclass(frozen=True)
class Settings:
    """Everything a run needs to know about where things are and what day it is."""

    home: Path = DEFAULT_HOME
    warehouse_url: str = ""
    inbox: Path = Path("examples/inbox")
    reference: Path = Path("examples/reference")
    deadline_day: int = 5
    secret_key: str = DEVELOPMENT_SECRET
    time_zone: str = "Asia/Shanghai"
    as_of: date | None = None
    verbose: bool = False
    lang: str = "zh"
    webhook_url: str = ""
    # `YYYY-MM`: uploads before it are quarantined and none is expected; "" = January of the
    # earliest year in targets.csv.
    first_month: str = ""
    # Limits of one upload, checked before it is parsed (README, "Limits").
    upload_max_bytes: int = 20 * 1024 * 1024
    upload_max_rows: int = 100_000
    upload_max_columns: int = 1_000
    xlsx_max_uncompressed_bytes: int = 200 * 1024 * 1024
    xlsx_max_compression_ratio: float = 200.0
    # The parsing workers: address space of each, seconds per file, how many (0: one per core).
    reader_memory_mb: int = 2048
    reader_timeout_seconds: float = 120.0
    reader_workers: int = 0
    extra: Mapping[str, str] = field(default_factory=dict)

    @property
    def effective_warehouse_url(self) -> str:
        """The configured URL, else the embedded SQLite file under `home`."""
        if self.warehouse_url:
            return self.warehouse_url
        return f"sqlite:///{(self.home / 'warehouse.db').as_posix()}"

    @property
    def effective_as_of(self) -> date:
        """`--as-of`, else today in the district's time zone."""
        return self.as_of or datetime.now(ZoneInfo(self.time_zone)).date()

    @property
    def raw_dir(self) -> Path:
        return self.home / "raw"

    @property
    def reports_dir(self) -> Path:
        return self.home / "reports"

    @property
    def uses_development_secret(self) -> bool:
        return self.secret_key == DEVELOPMENT_SECRET

    @property
    def secret(self) -> bytes:
        return self.secret_key.encode("utf-8")


_ENV_FIELDS: dict[str, str] = {
    "POPSTAT_HOME": "home",
    "POPSTAT_WAREHOUSE_URL": "warehouse_url",
    "POPSTAT_INBOX": "inbox",
    "POPSTAT_REFERENCE": "reference",
    "POPSTAT_DEADLINE_DAY": "deadline_day",
    "POPSTAT_SECRET_KEY": "secret_key",
    "POPSTAT_TIME_ZONE": "time_zone",
    "POPSTAT_AS_OF": "as_of",
    "POPSTAT_LANG": "lang",
    "POPSTAT_WEBHOOK_URL": "webhook_url",
    "POPSTAT_FIRST_MONTH": "first_month",
    "POPSTAT_UPLOAD_MAX_BYTES": "upload_max_bytes",
    "POPSTAT_UPLOAD_MAX_ROWS": "upload_max_rows",
    "POPSTAT_UPLOAD_MAX_COLUMNS": "upload_max_columns",
    "POPSTAT_XLSX_MAX_UNCOMPRESSED_BYTES": "xlsx_max_uncompressed_bytes",
    "POPSTAT_XLSX_MAX_COMPRESSION_RATIO": "xlsx_max_compression_ratio",
    "POPSTAT_READER_MEMORY_MB": "reader_memory_mb",
    "POPSTAT_READER_TIMEOUT_SECONDS": "reader_timeout_seconds",
    "POPSTAT_READER_WORKERS": "reader_workers",
}


_POSITIVE_INTS = {
    "upload_max_bytes",
    "upload_max_rows",
    "upload_max_columns",
    "xlsx_max_uncompressed_bytes",
    "reader_memory_mb",
    "reader_workers",
}
_POSITIVE_FLOATS = {"xlsx_max_compression_ratio", "reader_timeout_seconds"}


def _coerce(name: str, value: Any) -> Any:
    if value is None:
        return None
    if name in {"home", "inbox", "reference"}:
        return Path(value)
    if name == "deadline_day":
        day = int(value)
        if not 1 <= day <= 28:
            raise ValueError(f"deadline day must be 1..28, got {day}")
        return day
    if name in _POSITIVE_INTS or name in _POSITIVE_FLOATS:
        number = int(value) if name in _POSITIVE_INTS else float(value)
        if number < (0 if name == "reader_workers" else 1):
            raise ValueError(f"{name} must be a positive number, got {value}")
        return number
    if name == "first_month" and value:
        if not re.fullmatch(r"\d{4}-(0[1-9]|1[0-2])", str(value)):
            raise ValueError(f"first month must be YYYY-MM, got {value!r}")
        return str(value)
    if name == "as_of" and isinstance(value, str):
        return date.fromisoformat(value)
    return value


def load_settings(
    overrides: Mapping[str, Any] | None = None, environ: Mapping[str, str] | None = None
) -> Settings:
    """Defaults, then `POPSTAT_*` variables, then non-None `overrides` (the flags)."""
    env = os.environ if environ is None else environ
    values: dict[str, Any] = {}
    for variable, name in _ENV_FIELDS.items():
        if env.get(variable):
            values[name] = _coerce(name, env[variable])
    for name, value in (overrides or {}).items():
        if value is not None:
            values[name] = _coerce(name, value)
    return replace(Settings(), **values)


def warn_if_development_secret(settings: Settings) -> None:
    """Persons are keyed with this secret; the built-in one is public, so say so loudly."""
    if settings.uses_development_secret:
        print(
            "警告 WARNING: 正在使用内置开发密钥生成个人标识哈希，生产环境请设置 POPSTAT_SECRET_KEY。\n"
            "         using the built-in development key for person hashes; "
            "set POPSTAT_SECRET_KEY in production.",
            file=sys.stderr,
        )


def prefect_environment(settings: Settings) -> dict[str, str]:
    """Variables Prefect must see before it is imported: offline offices, quiet logs."""
    env = {
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "DO_NOT_TRACK": "1",
        # The temporary server needs ~16 s to start on 2 cores; the default allows 20.
        "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS": "120",
        "PREFECT_LOGGING_LEVEL": "INFO" if settings.verbose else "WARNING",
    }
    return {k: v for k, v in env.items() if k not in os.environ}


def apply_prefect_environment(settings: Settings) -> None:
    """Set Prefect's variables in this process (only where the user has not set them)."""
    os.environ.update(prefect_environment(settings))
