"""The process's Great Expectations runtime: one ephemeral context, built once.

Importing GX and building suites costs seconds, so the context, its pandas
source, one dataframe asset and suite per template, and the results kept for
the run's Data Docs live on one object per process (`gx_runtime`). Validation
(`expectations/validate.py`) adds results to it; the Data Docs build
(`expectations/data_docs.py`) takes them, renders them with this context's
suites, and leaves nothing behind. Both modules import this one and neither
imports the other.
"""

from __future__ import annotations

import logging
import threading
from collections import deque
from dataclasses import dataclass, field
from datetime import datetime
from functools import cache

import great_expectations as gx
from great_expectations.core.batch_definition import BatchDefinition
from great_expectations.core.expectation_validation_result import (
    ExpectationSuiteValidationResult,
)
from great_expectations.data_context import EphemeralDataContext
from great_expectations.data_context.types.base import (
    DataContextConfig,
    InMemoryStoreBackendDefaults,
    ProgressBarsConfig,
)
from great_expectations.datasource.fluent import PandasDatasource

from expectations.suites import build_suite
from transforms.templates import Contract, Template

# Results kept between Data Docs builds, at most: a run has one per template; this
# only bounds a process that validates without ever building (tests, a notebook).
MAX_KEPT = 256


@dataclass(frozen=True)
class KeptResult:
    """One batch's validation result, summary-size, kept for the run's Data Docs."""

    result: ExpectationSuiteValidationResult
    asset: str | None
    validated_at: datetime


@dataclass
class GxRuntime:
    """The process's GX objects: one context, its pandas source, per-template batch/suite."""

    context: EphemeralDataContext
    source: PandasDatasource
    batches: dict[str, BatchDefinition] = field(default_factory=dict)
    suites: dict[Template, gx.ExpectationSuite] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)
    _kept: deque[KeptResult] = field(default_factory=lambda: deque(maxlen=MAX_KEPT))
    _kept_lock: threading.Lock = field(default_factory=threading.Lock)

    def batch_definition(self, template: Template) -> BatchDefinition:
        with self.lock:
            if template.staging_table not in self.batches:
                asset = self.source.add_dataframe_asset(template.staging_table)
                self.batches[template.staging_table] = asset.add_batch_definition_whole_dataframe(
                    "all_uploads"
                )
            return self.batches[template.staging_table]

    def forget(self, batch_id: str) -> None:
        """Drop a validated batch's data. GX's execution engine keeps every batch it has
        loaded, the frame included, for the process's life: a night would hold the last
        batch of every template (hundreds of MB) through every stage after validation."""
        manager = self.source.get_execution_engine().batch_manager
        with self.lock:
            manager.batch_data_cache.pop(batch_id, None)
            manager.batch_cache.pop(batch_id, None)

    def suite(self, template: Template, contract: Contract) -> gx.ExpectationSuite:
        with self.lock:
            if template not in self.suites:
                suite = build_suite(template, contract)
                taken = {s.name for s in self.suites.values()}
                if suite.name in taken:  # another version of the template (tests)
                    suite.name = f"{suite.name}_{len(self.suites)}"
                self.suites[template] = self.context.suites.add(suite)
            return self.suites[template]

    def keep(self, kept: KeptResult) -> None:
        """Keep a result for the next Data Docs build (the oldest goes past MAX_KEPT)."""
        with self._kept_lock:
            self._kept.append(kept)

    def kept(self) -> list[KeptResult]:
        """The results kept since the last build, oldest first."""
        with self._kept_lock:
            return list(self._kept)

    def take_kept(self) -> list[KeptResult]:
        """The results kept since the last build, forgotten here."""
        with self._kept_lock:
            taken = list(self._kept)
            self._kept.clear()
        return taken


@cache
def gx_runtime() -> GxRuntime:
    """The GX context for this process: ephemeral, quiet, built once."""
    for name in ("great_expectations", "great_expectations.core", "py.warnings"):
        logging.getLogger(name).setLevel(logging.ERROR)
    config = DataContextConfig(
        store_backend_defaults=InMemoryStoreBackendDefaults(),
        analytics_enabled=False,
        progress_bars=ProgressBarsConfig(globally=False, metric_calculations=False),
    )
    context = gx.get_context(mode="ephemeral", project_config=config)
    return GxRuntime(context=context, source=context.data_sources.add_pandas("staged"))
