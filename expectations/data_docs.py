"""Great Expectations Data Docs of a run: one static site, built once at the end of validate.

`validate_batch` hands each template batch's result to `collect_result`, which keeps
a summary-size copy on the process's GX runtime (`expectations/runtime.py`): per expectation the counts and percentages and at most
`SAMPLE_ROWS` failing (`upload_id`, `row_number`) pairs. It never keeps the complete
unexpected index lists (millions of rows on a bad night) nor any unexpected value
(an ID number, a name): the site is a plain folder of HTML files.

`build_data_docs(reports_dir, run_id)` then renders everything collected since the
last build into `<reports_dir>/data-docs/<run_id>/` and forgets it. It uses the
process's ephemeral context (`gx_runtime`) with a local-filesystem site and two
in-memory stores that exist only during the build and hold only this run's results
and their suites: nothing from an earlier run or from the mart audit shows up, and
nothing is left in the context.

Offline: GX pages load Bootstrap, jQuery and the icon font from CDNs. Without the
network they render unstyled, and the index's results table (filled by JavaScript)
stays empty, so a plain list of the run's validations is written into `index.html`
too. The figures in these pages are GX's own counts, before the findings step drops
rows already reported by their parse error; `dq_issues` remains what officers read.
"""

from __future__ import annotations

import html
import logging
import re
import uuid
from contextlib import suppress
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from great_expectations.core.expectation_validation_result import (
    ExpectationSuiteValidationResult,
    ExpectationValidationResult,
)
from great_expectations.core.run_identifier import RunIdentifier
from great_expectations.data_context.types.resource_identifiers import (
    ExpectationSuiteIdentifier,
    ValidationResultIdentifier,
)
from great_expectations.exceptions import DataContextError

from expectations.runtime import GxRuntime, KeptResult, gx_runtime

DOCS_FOLDER = "data-docs"
SAMPLE_ROWS = 20  # failing rows kept per expectation, as GX's SUMMARY format keeps
# What a kept expectation result may hold: counts and percentages, no values.
_KEPT_KEYS = (
    "element_count",
    "unexpected_count",
    "unexpected_percent",
    "unexpected_percent_total",
    "unexpected_percent_nonmissing",
    "missing_count",
    "missing_percent",
    "unexpected_index_column_names",
)
logger = logging.getLogger(__name__)
_PANE = re.compile(r'<div[^>]*\bid="Validation-Results"[^>]*>')


def collect_result(
    result: ExpectationSuiteValidationResult,
    asset: str | None = None,
    runtime: GxRuntime | None = None,
) -> ExpectationSuiteValidationResult:
    """Keep a summary-size copy of one batch's result for this run's Data Docs; return it.

    `asset`: the data asset validated (the staging table), shown on the page.
    `runtime`: the GX runtime that validated it (default: the process's).
    Costs microseconds per expectation whatever the batch's size: the big lists
    are left behind, not copied.
    """
    copy = summary_copy(result)
    (runtime or gx_runtime()).keep(KeptResult(copy, asset, datetime.now(UTC)))
    return copy


def collected(runtime: GxRuntime | None = None) -> list[ExpectationSuiteValidationResult]:
    """The results kept since the last build (oldest first)."""
    return [k.result for k in (runtime or gx_runtime()).kept()]


def discard_collected(runtime: GxRuntime | None = None) -> int:
    """Forget the results kept since the last build; how many there were."""
    return len((runtime or gx_runtime()).take_kept())


def summary_copy(result: ExpectationSuiteValidationResult) -> ExpectationSuiteValidationResult:
    """`result` with each expectation's result cut down to counts and a few row pointers."""
    outcomes = [
        ExpectationValidationResult(
            success=outcome.success,
            expectation_config=outcome.expectation_config,
            result=_summary(outcome.result),
            meta=dict(outcome.meta),
            exception_info=_exception_info(outcome.exception_info),
        )
        for outcome in result.results
    ]
    return ExpectationSuiteValidationResult(
        success=bool(result.success),
        results=outcomes,
        suite_name=result.suite_name,
        suite_parameters=dict(result.suite_parameters),
        statistics=dict(result.statistics),
        meta=dict(result.meta),
        batch_id=result.batch_id,
    )


def build_data_docs(folder: Path, run_id: str, runtime: GxRuntime | None = None) -> Path:
    """Render the results collected since the last build into `folder/data-docs/<run_id>/`.

    `folder`: the reports folder (`Settings.reports_dir`). Builds once, whatever
    the number of batches, and forgets the collected results (also when the
    build fails: they belong to this run). `runtime`: the GX runtime that
    validated them (default: the process's). Returns the site's `index.html`.
    """
    if not run_id or run_id in {".", ".."} or re.search(r"[/\\]", run_id):
        raise ValueError(f"run id not usable as a folder name: {run_id!r}")
    runtime = runtime or gx_runtime()
    kept = runtime.take_kept()
    site_dir = Path(folder) / DOCS_FOLDER / run_id
    site_dir.mkdir(parents=True, exist_ok=True)

    context = runtime.context
    tag = uuid.uuid4().hex[:8]
    results_store, suites_store, site = (
        f"popstat_docs_results_{tag}",
        f"popstat_docs_suites_{tag}",
        f"popstat_docs_{tag}",
    )
    links: list[tuple[str, ExpectationSuiteValidationResult, str]] = []
    with runtime.lock:
        results = context.add_store(results_store, _in_memory("ValidationResultsStore"))
        suites = context.add_store(suites_store, _in_memory("ExpectationsStore"))
        try:
            for item in kept:
                key = _key(item, run_id)
                results.set(key, _with_run(item, run_id))
                suite_key = key.expectation_suite_identifier
                if not suites.has_key(suite_key):
                    # a suite not in this context (cannot happen in a run): no suite page
                    with suppress(DataContextError):
                        suites.set(suite_key, context.suites.get(item.result.suite_name))
                links.append((_page(key), item.result, item.asset or ""))
            config = _site_config(site_dir, run_id, results_store, suites_store)
            context.add_data_docs_site(site, config)
            try:
                context.build_data_docs(site_names=[site])
            finally:
                context.delete_data_docs_site(site)
        finally:
            context.delete_store(results_store)
            context.delete_store(suites_store)

    index = site_dir / "index.html"
    if not index.is_file():
        raise RuntimeError(f"Data Docs not written: no {index}")
    # GX logs a page it failed to render and goes on; so does the run (the list says so)
    missing = [page for page, _, _ in links if not (site_dir / page).is_file()]
    if missing:
        logger.warning(f"Data Docs pages not rendered (see the GX error above): {missing}")
    _add_plain_list(index, run_id, links, set(missing))
    _prune_static_images(site_dir)
    return index


def _summary(result: dict[str, Any]) -> dict[str, Any]:
    kept = {k: result[k] for k in _KEPT_KEYS if k in result}
    if isinstance(result.get("observed_value"), int | float):  # a count or a rate, not a value
        kept["observed_value"] = result["observed_value"]
    rows = _sample_rows(result.get("partial_unexpected_index_list"))
    if rows:
        kept["partial_unexpected_index_list"] = rows
    return kept


def _sample_rows(index_list: Any) -> list[dict[str, Any]]:
    """At most SAMPLE_ROWS row pointers, one dict a row (GX gives parallel lists too)."""
    if not index_list or not isinstance(index_list, list) or not isinstance(index_list[0], dict):
        return []
    first = index_list[0]
    if first and all(isinstance(v, list) for v in first.values()):  # {"upload_id": [...], ...}
        names = list(first)
        columns = [first[n][:SAMPLE_ROWS] for n in names]
        return [dict(zip(names, row, strict=False)) for row in zip(*columns, strict=False)]
    return [dict(row) for row in index_list[:SAMPLE_ROWS]]


def _exception_info(info: dict[str, Any]) -> dict[str, Any]:
    """Whether the expectation raised and the message; the traceback may quote data."""
    return {
        "raised_exception": bool(info.get("raised_exception")),
        "exception_traceback": None,
        "exception_message": info.get("exception_message"),
    }


def _run_identifier(item: KeptResult, run_id: str) -> RunIdentifier:
    return RunIdentifier(run_name=run_id, run_time=item.validated_at)


def _key(item: KeptResult, run_id: str) -> ValidationResultIdentifier:
    result = item.result
    return ValidationResultIdentifier(
        expectation_suite_identifier=ExpectationSuiteIdentifier(name=result.suite_name),
        run_id=_run_identifier(item, run_id),
        batch_identifier=result.batch_id or item.asset or result.suite_name,
    )


def _with_run(item: KeptResult, run_id: str) -> ExpectationSuiteValidationResult:
    """The kept result as stored for the site: run name and time, the asset validated."""
    result = item.result
    meta = dict(result.meta)
    meta["run_id"] = _run_identifier(item, run_id)
    meta["validation_time"] = item.validated_at.isoformat()
    if item.asset:
        meta["batch_spec"] = {**dict(meta.get("batch_spec") or {}), "data_asset_name": item.asset}
    return ExpectationSuiteValidationResult(
        success=bool(result.success),
        results=result.results,
        suite_name=result.suite_name,
        suite_parameters=result.suite_parameters,
        statistics=result.statistics,
        meta=meta,
        batch_id=result.batch_id,
    )


def _page(key: ValidationResultIdentifier) -> str:
    """The validation page's path in the site, as GX's HtmlSiteStore names it."""
    run = key.run_id
    return "/".join(
        [
            "validations",
            *key.expectation_suite_identifier.name.split("."),
            run.run_name,
            run.run_time.strftime("%Y%m%dT%H%M%S.%fZ"),
            f"{key.batch_identifier}.html",
        ]
    )


def _in_memory(class_name: str) -> Any:
    return {"class_name": class_name, "store_backend": {"class_name": "InMemoryStoreBackend"}}


def _site_config(site_dir: Path, run_id: str, results_store: str, suites_store: str) -> Any:
    return {
        "class_name": "SiteBuilder",
        "show_how_to_buttons": False,
        "store_backend": {
            "class_name": "TupleFilesystemStoreBackend",
            "base_directory": str(site_dir.resolve()),
        },
        "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"},
        "site_section_builders": {
            "expectations": {"source_store_name": suites_store},
            # GX's default filter drops run names containing "profiling"
            "validations": {
                "source_store_name": results_store,
                "run_name_filter": {"equals": run_id},
            },
            "profiling": "False",
        },
    }


def _prune_static_images(site_dir: Path) -> None:
    """Drop the images no page uses (GX copies 3.4 MB of tutorial GIFs into every site)."""
    images = site_dir / "static" / "images"
    if not images.is_dir():
        return
    pages = [*site_dir.rglob("*.html"), *(site_dir / "static").rglob("*.css")]
    used = "\n".join(p.read_text(encoding="utf-8", errors="replace") for p in pages)
    for image in images.iterdir():
        if image.is_file() and image.name not in used:
            image.unlink()


def _add_plain_list(
    index: Path,
    run_id: str,
    links: list[tuple[str, ExpectationSuiteValidationResult, str]],
    missing: set[str],
) -> None:
    """A list of the run's validations that shows without JavaScript (offline)."""
    items = []
    for page, result, asset in links:
        stats = result.statistics
        status = "passed" if result.success else "failed"
        counts = (
            f"{stats.get('unsuccessful_expectations', 0)} of "
            f"{stats.get('evaluated_expectations', 0)} expectations failed"
        )
        name = html.escape(result.suite_name)
        title = (
            f"{name} (page not rendered)"
            if page in missing
            else (f'<a href="{html.escape(page)}">{name}</a>')
        )
        items.append(f"<li>{title} ({html.escape(asset)}): {status}, {counts}</li>")
    block = (
        f'<div id="popstat-validations"><p>Validations of run {html.escape(run_id)}:</p>'
        f"<ul>{''.join(items) or '<li>none</li>'}</ul></div>"
    )
    text = index.read_text(encoding="utf-8")
    pane = _PANE.search(text)
    at = pane.end() if pane else text.rfind("</body>")
    if at < 0:
        at = len(text)
    index.write_text(text[:at] + block + text[at:], encoding="utf-8")
