"""The one typed settings object, and the only place that reads the environment.

Precedence: command-line flags over `POPSTAT_*` environment variables over the
defaults below. Every other module receives what it needs as arguments.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Mapping
from datetime import date, datetime
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEVELOPMENT_SECRET = "popstat-development-key-do-not-use-in-production"
DEFAULT_HOME = Path("popstat-data")


class Settings(BaseSettings):
    """Everything a run needs to know about where things are and what day it is.

    Each field `x` is read from `POPSTAT_X` (an empty variable counts as unset);
    keyword arguments (the command's flags) win over the environment, the
    environment over the defaults below. Frozen: change one with `model_copy(update=...)`.
    """

    model_config = SettingsConfigDict(
        env_prefix="POPSTAT_",
        env_ignore_empty=True,
        # Other POPSTAT_* variables (the tests' database URL, say) are not settings.
        extra="ignore",
        frozen=True,
    )

    home: Path = DEFAULT_HOME
    warehouse_url: str = ""
    inbox: Path = Path("examples/inbox")
    reference: Path = Path("examples/reference")
    # Of the month after the report month; 28 at most, so every month has it.
    deadline_day: int = Field(default=5, ge=1, le=28)
    # Out of reprs and logs: persons are keyed with it.
    secret_key: str = Field(default=DEVELOPMENT_SECRET, repr=False)
    time_zone: str = "Asia/Shanghai"
    as_of: date | None = None
    verbose: bool = False
    lang: str = "zh"
    webhook_url: str = ""
    # `YYYY-MM`: uploads before it are quarantined and none is expected; "" = January of the
    # earliest year in targets.csv.
    first_month: str = Field(default="", pattern=r"^(\d{4}-(0[1-9]|1[0-2]))?$")
    # Limits of one upload, checked before it is parsed (README, "Limits").
    upload_max_bytes: int = Field(default=20 * 1024 * 1024, ge=1)
    upload_max_rows: int = Field(default=100_000, ge=1)
    upload_max_columns: int = Field(default=1_000, ge=1)
    xlsx_max_uncompressed_bytes: int = Field(default=200 * 1024 * 1024, ge=1)
    xlsx_max_compression_ratio: float = Field(default=200.0, ge=1)
    # The parsing workers: address space of each, seconds per file, how many (0: one per core).
    reader_memory_mb: int = Field(default=2048, ge=1)
    reader_timeout_seconds: float = Field(default=120.0, ge=1)
    reader_workers: int = Field(default=0, ge=0)
    # Rows per Great Expectations batch: GX holds a batch whole, with copies (README, "Memory").
    validate_batch_rows: int = Field(default=250_000, ge=1)
    # The batches run in worker processes forked from the run's fork server, which imported
    # GX: in this many (0: one per core) when they hold at least `validate_pool_min_rows`
    # rows, else in one; 1: in the run's own process, which then imports GX (~2.6 s).
    validate_workers: int = Field(default=0, ge=0)
    validate_pool_min_rows: int = Field(default=400_000, ge=0)
    # Where the counties of a run are reconciled: in this process, one after another
    # ("local"), or on Dask ("dask": the cluster at `dask_address`, else a LocalCluster of
    # `dask_workers` processes, 0 = one per core). Dask needs PostgreSQL (see below).
    executor: Literal["local", "dask"] = "local"
    # Locally, the townships to recompute run in this many worker processes (0: one per
    # core; 1: in the run's own process), when they hold at least `partition_pool_min_mb` of
    # rows: a worker costs ~1.5 s to start, more than a small county's whole reconciliation.
    partition_workers: int = Field(default=0, ge=0)
    partition_pool_min_mb: float = Field(default=32.0, ge=0)
    dask_address: str = ""
    dask_workers: int = Field(default=0, ge=0)

    @model_validator(mode="after")
    def _distributed_needs_postgresql(self) -> Settings:
        """A Dask run's workers are other processes, perhaps other machines: they cannot all
        write one SQLite file, so a distributed run refuses the embedded warehouse."""
        if self.executor == "dask" and not self.effective_warehouse_url.startswith("postgresql"):
            raise ValueError(
                "分布式运行（--executor dask）需要 PostgreSQL 数仓（--warehouse postgresql+psycopg://…）；"
                "内置 SQLite 数仓只能在本机单进程运行 / a Dask run needs a PostgreSQL warehouse: "
                "the embedded SQLite warehouse is one file for one process"
            )
        return self

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
    def workers_log(self) -> Path:
        """What the run's worker processes print (the last run's)."""
        return self.home / "logs" / "workers.log"

    @property
    def uses_development_secret(self) -> bool:
        return self.secret_key == DEVELOPMENT_SECRET

    @property
    def secret(self) -> bytes:
        return self.secret_key.encode("utf-8")


SETTING_NAMES = frozenset(Settings.model_fields)


def load_settings(overrides: Mapping[str, Any] | None = None) -> Settings:
    """Defaults, then `POPSTAT_*` variables, then non-None `overrides` (the flags)."""
    flags = {k: v for k, v in (overrides or {}).items() if v is not None}
    return Settings(**flags)


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
