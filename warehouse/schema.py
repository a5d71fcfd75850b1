"""The warehouse schema: one SQLAlchemy metadata for every table popstat owns.

The staging tables are generated from the upload templates, so a column added
to the contract is a column here (and a migration). Table grains are in each
table's comment, which PostgreSQL keeps for dashboards to read.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Date,
    DateTime,
    Float,
    Index,
    Integer,
    MetaData,
    Numeric,
    String,
    Table,
    Text,
)

from transforms.templates import Column as TemplateColumn
from transforms.templates import Template, load_contract

metadata = MetaData()

uploads = Table(
    "uploads",
    metadata,
    Column("upload_id", Integer, primary_key=True, autoincrement=False),
    Column("file_name", Text, nullable=False),
    Column("path", Text, nullable=False, comment="path relative to the inbox"),
    Column("sha256", String(64), nullable=False),
    Column("size_bytes", BigInteger, nullable=False),
    Column("source", Text),
    Column("kind", Text),
    Column("unit", Text),
    Column("report_month", String(7), comment="YYYY-MM"),
    Column("arrived_at", DateTime, nullable=False),
    Column("rows", Integer),
    Column("late", Boolean),
    Column("status", Text, nullable=False, comment="loaded, superseded, duplicate, quarantined"),
    Column("reason_code", Text),
    Column("reason_zh", Text),
    Column("reason_en", Text),
    Column("encoding", Text),
    Column("header_row", Integer),
    Column("duplicate_of", Integer, comment="upload_id of the first file with the same bytes"),
    Column("staged_path", Text, comment="normalised rows, relative to the raw folder"),
    Column("validated_run", Text, comment="the run whose quality checks covered this upload"),
    Column("run_id", Text, nullable=False),
    comment="One row per file received (the manifest).",
)
Index(
    "ix_uploads_identity", uploads.c.source, uploads.c.kind, uploads.c.unit, uploads.c.report_month
)
Index("ix_uploads_sha256", uploads.c.sha256)

runs = Table(
    "runs",
    metadata,
    Column("run_id", Text, primary_key=True),
    Column("started_at", DateTime, nullable=False),
    Column("finished_at", DateTime),
    Column("as_of", Date, nullable=False),
    Column("status", Text, nullable=False, comment="running, completed, failed"),
    Column("summary", Text, comment="JSON summary of the run"),
    comment="One row per popstat run.",
)

run_lock = Table(
    "run_lock",
    metadata,
    Column("lock_name", Text, primary_key=True),
    Column("run_id", Text, nullable=False),
    Column("host", Text, nullable=False),
    Column("pid", Integer, nullable=False),
    Column("acquired_at", DateTime, nullable=False),
    Column("heartbeat_at", DateTime, nullable=False),
    comment="At most one row: the run that holds the warehouse.",
)

_STAGED_TYPES: dict[str, Any] = {
    "text": Text,
    "id": String(18),
    "date": Date,
    "sex": String(1),
    "yesno": Boolean,
    "money": Numeric(14, 2),
    "integer": Integer,
    "enum": Text,
    "area_code": String(12),
}


def _staged_columns(col: TemplateColumn) -> list[Column[object]]:
    columns: list[Column[object]] = [Column(col.name, _STAGED_TYPES[col.type], comment=col.header)]
    if col.type == "id":
        columns.append(Column(f"{col.name}_key", String(64), comment="keyed hash of the ID"))
    columns.append(Column(f"err_{col.name}", Text, comment="parse error code, null if fine"))
    return columns


def _staging_table(template: Template) -> Table:
    return Table(
        template.staging_table,
        metadata,
        Column("upload_id", Integer, primary_key=True, autoincrement=False),
        Column("row_number", Integer, primary_key=True, autoincrement=False),
        Column("unit", Text, nullable=False),
        Column("report_month", String(7), nullable=False),
        *[c for col in template.columns for c in _staged_columns(col)],
        comment=(
            f"{template.title_zh} ({template.title_en}): one row per uploaded row, "
            "normalised, with its upload and row number."
        ),
    )


staging_tables: dict[str, Table] = {
    name: _staging_table(template) for name, template in load_contract().templates.items()
}

stg_exclusions = Table(
    "stg_exclusions",
    metadata,
    Column("upload_id", Integer, primary_key=True, autoincrement=False),
    Column("row_number", Integer, primary_key=True, autoincrement=False),
    Column("template", Text, nullable=False),
    Column("rules", Text, nullable=False, comment="the error rules that exclude the row"),
    comment="One row per staged row excluded from reconciliation by an error-severity rule.",
)

dq_issues = Table(
    "dq_issues",
    metadata,
    Column("issue_id", String(24), primary_key=True),
    Column("rule", Text, nullable=False),
    Column("severity", Text, nullable=False),
    Column("dimension", Text, nullable=False),
    Column("source", Text),
    Column("kind", Text),
    Column("unit", Text),
    Column("report_month", String(7)),
    Column("file_name", Text),
    Column("upload_id", Integer),
    Column("row_number", Integer),
    Column("column_name", Text, comment="the template column the rule looked at"),
    Column("record_key", Text, comment="masked ID, never the raw number"),
    Column("value", Text, comment="the offending value, masked when it is an ID"),
    Column("message_zh", Text, nullable=False),
    Column("message_en", Text, nullable=False),
    Column("status", Text, nullable=False, comment="open, acknowledged, resolved, waived"),
    Column("status_note", Text),
    Column("status_by", Text),
    Column("status_at", DateTime),
    Column("first_seen_run", Text, nullable=False),
    Column("last_seen_run", Text, nullable=False),
    Column("active", Boolean, nullable=False, comment="found by the latest run that checked it"),
    Column("origin", Text, nullable=False, comment="the check: validation, reconciliation, …"),
    comment="One row per data-quality problem.",
)
Index("ix_dq_issues_filter", dq_issues.c.status, dq_issues.c.rule, dq_issues.c.unit)

dq_issue_events = Table(
    "dq_issue_events",
    metadata,
    Column("event_id", Integer, primary_key=True, autoincrement=True),
    Column("issue_id", String(24), nullable=False, index=True),
    Column("at", DateTime, nullable=False),
    Column("by", Text, nullable=False),
    Column("from_status", Text),
    Column("to_status", Text, nullable=False),
    Column("note", Text),
    Column("run_id", Text),
    comment="One row per status change of a quality issue.",
)

village_signoffs = Table(
    "village_signoffs",
    metadata,
    Column("unit", String(12), primary_key=True, comment="village code"),
    Column("report_month", String(7), primary_key=True, comment="YYYY-MM"),
    Column("status", Text, nullable=False, comment="signed_off or withdrawn"),
    Column("files_sha256", String(64), nullable=False, comment="digest of the files signed off"),
    Column("files", Text, nullable=False, comment="names of the files signed off, one a line"),
    Column("note", Text, nullable=False),
    Column("signed_by", Text, nullable=False),
    Column("signed_at", DateTime, nullable=False, comment="local time of the configured zone"),
    Column("withdrawn_at", DateTime),
    Column("withdrawn_run", Text, comment="the run whose new upload withdrew the sign-off"),
    comment=(
        "One row per village-month a township officer signed off (审核把关): its latest "
        "sign-off, pinned to the sha256 of the village's files, or its withdrawal."
    ),
)

village_signoff_events = Table(
    "village_signoff_events",
    metadata,
    Column("event_id", Integer, primary_key=True, autoincrement=True),
    Column("unit", String(12), nullable=False),
    Column("report_month", String(7), nullable=False),
    Column("action", Text, nullable=False, comment="signed_off or withdrawn"),
    Column("at", DateTime, nullable=False, comment="local time of the configured zone"),
    Column("by", Text, nullable=False),
    Column("note", Text),
    Column("files_sha256", String(64), nullable=False),
    Column("run_id", Text, comment="the run that withdrew it; null for an officer's sign-off"),
    comment="One row per sign-off or withdrawal of a village-month (who and when).",
)
Index(
    "ix_village_signoff_events_key",
    village_signoff_events.c.unit,
    village_signoff_events.c.report_month,
)

PARTITION_COMMENT = "the township whose results the row is (transforms.reconcile.partitions)"

recon_partitions = Table(
    "recon_partitions",
    metadata,
    Column("partition", Text, primary_key=True),
    Column("digest", String(64), nullable=False, comment="digest of the partition's inputs"),
    Column("run_id", Text, nullable=False, comment="the run that published its rows"),
    comment="One row per township partition whose reconciled rows are published.",
)

published_copies = Table(
    "published_copies",
    metadata,
    Column("published", Text, primary_key=True, comment="the published table copied"),
    Column(
        "token",
        Text,
        nullable=False,
        comment="names the copy: <home>/published-copies/<token>.parquet",
    ),
    Column("run_id", Text, nullable=False, comment="the run that published the copied rows"),
    comment=(
        "One row per published table of which the publishing home keeps a Parquet copy "
        "(the next publish's diff reads it instead of the table). Written in the publish's "
        "transaction; a publish that keeps no copy deletes the row. A migration that "
        "changes a copied table's rows must delete its row too."
    ),
)

dq_reporting = Table(
    "dq_reporting",
    metadata,
    Column("unit", Text, primary_key=True),
    Column("source", Text, primary_key=True),
    Column("kind", Text, primary_key=True),
    Column("report_month", String(7), primary_key=True),
    Column("area_code", String(12), nullable=False),
    Column("received", Boolean, nullable=False),
    Column("on_time", Boolean, nullable=False),
    Column("partition", Text, comment=PARTITION_COMMENT),
    comment="One row per expected upload (unit × kind × month due).",
)
Index("ix_dq_reporting_partition", dq_reporting.c.partition)

recon_births = Table(
    "recon_births",
    metadata,
    Column("birth_key", String(64), primary_key=True),
    Column("area_code", String(12)),
    Column("birth_date", Date),
    Column("birth_month", String(7)),
    Column("child_sex", String(1)),
    Column("birth_order", Integer),
    Column("policy_status", Text),
    Column("in_village", Boolean, nullable=False),
    Column("in_hospital", Boolean, nullable=False),
    Column("in_police", Boolean, nullable=False),
    Column("status", Text, nullable=False),
    Column("mother_key", String(64)),
    Column("matched_by", Text),
    Column(
        "village_report_month",
        String(7),
        comment="upload month of the valid village row that reported the birth; null if none",
    ),
    Column(
        "reported_on_time",
        Boolean,
        comment="in the village's upload of the birth month or the next; null while pending",
    ),
    Column("partition", Text, comment=PARTITION_COMMENT),
    comment="One row per reconciled birth (village, hospital and police as one).",
)
Index("ix_recon_births_partition", recon_births.c.partition)

recon_women = Table(
    "recon_women",
    metadata,
    Column("snapshot_month", String(7), primary_key=True),
    Column("woman_key", String(64), primary_key=True),
    Column("area_code", String(12), nullable=False),
    Column("residence", Text),
    Column("children", Integer),
    Column("method", Text),
    Column("method_source", Text),
    Column("last_check_date", Date),
    Column("marriage_certificate", Boolean),
    Column("file_created", Boolean),
    Column("verified", Boolean),
    Column("notified", Boolean),
    Column("partition", Text, comment=PARTITION_COMMENT),
    comment="One row per roster woman per monthly snapshot, after police and hospital records.",
)
Index("ix_recon_women_partition", recon_women.c.partition)

recon_fees = Table(
    "recon_fees",
    metadata,
    Column("report_month", String(7), primary_key=True),
    Column("case_key", String(64), primary_key=True),
    Column("area_code", String(12), nullable=False),
    Column("decision_date", Date),
    Column("assessed", Numeric(14, 2)),
    Column("paid_to_date", Numeric(14, 2)),
    Column("partition", Text, comment=PARTITION_COMMENT),
    comment="One row per fee case per monthly ledger.",
)
Index("ix_recon_fees_partition", recon_fees.c.partition)

recon_exams = Table(
    "recon_exams",
    metadata,
    Column("exam_id", Integer, primary_key=True, autoincrement=False),
    Column("area_code", String(12)),
    Column("exam_date", Date),
    Column("exam_month", String(7)),
    Column("couple_key", String(64)),
    Column("partition", Text, comment=PARTITION_COMMENT),
    comment="One row per couple and year: the couple's first pre-pregnancy exam of the year.",
)
Index("ix_recon_exams_partition", recon_exams.c.partition)

recon_changes = Table(
    "recon_changes",
    metadata,
    Column("change_id", Integer, primary_key=True, autoincrement=False),
    Column("area_code", String(12)),
    Column("change_type", Text, nullable=False),
    Column("event_date", Date),
    Column("event_month", String(7)),
    Column("recorded_month", String(7)),
    Column("timely", Boolean, nullable=False),
    Column("partition", Text, comment=PARTITION_COMMENT),
    comment="One row per change the village must record (a birth or a procedure).",
)
Index("ix_recon_changes_partition", recon_changes.c.partition)

recon_accuracy = Table(
    "recon_accuracy",
    metadata,
    Column("upload_id", Integer, primary_key=True, autoincrement=False),
    Column("row_number", Integer, primary_key=True, autoincrement=False),
    Column("area_code", String(12)),
    Column("report_month", String(7)),
    Column("template", Text, nullable=False),
    Column("accurate", Boolean, nullable=False),
    Column("rule", Text),
    Column("partition", Text, comment=PARTITION_COMMENT),
    comment="One row per village row checked for accuracy (births and roster).",
)
Index("ix_recon_accuracy_partition", recon_accuracy.c.partition)

_MART_COLUMNS = (
    ("area_code", Text, "village, township or county code"),
    ("area_name", Text, "area name"),
    ("area_level", Text, "village, township or county"),
    ("parent_code", Text, "parent area code; null for the county"),
    ("period", Text, "2026-09, 2026-01..2026-09, 2026-Q3, 2026-H2 or 2026"),
    ("period_start", Date, "first day of the period"),
    ("period_end", Date, "last day of the period"),
    ("indicator", Text, "indicator code (indicators.md)"),
    ("indicator_name", Text, "指标中文名称"),
    ("numerator", Numeric(18, 2), "numerator"),
    ("denominator", Numeric(18, 2), "denominator; null for counts"),
    ("value", Float, "unrounded value; percentages in percent"),
    ("unit", Text, "%, count or ratio"),
    ("target_op", Text, ">=, <=, between or null"),
    ("target", Float, "target value (lower bound for between)"),
    ("target_hi", Float, "upper bound for between"),
    ("status", Text, "met, not_met, no_target, no_data or too_few"),
    ("rank", Integer, "rank within parent and period, 1 = best; null without target"),
    ("period_complete", Boolean, "every month of the period is due at the run's as-of date"),
    (
        "signed_off_share",
        Float,
        "share of the village-months behind the row that are signed off (0-1)",
    ),
    ("run_id", Text, "the run that published the row"),
)


def _mart_table(name: str, comment: str, *extra: Column[object]) -> Table:
    keys = {"area_code", "period", "indicator"}
    return Table(
        name,
        metadata,
        *extra,
        *[
            Column(col, typ, primary_key=col in keys and not extra, comment=text)
            for col, typ, text in _MART_COLUMNS
        ],
        comment=comment,
    )


mart_target_achievement = _mart_table(
    "mart_target_achievement",
    "One row per area × period × indicator: the published target achievement.",
)
mart_target_achievement_history = _mart_table(
    "mart_target_achievement_history",
    "One row per area × period × indicator × publishing run: what was published when.",
    Column("history_id", Integer, primary_key=True, autoincrement=True),
)
Index(
    "ix_mart_history_key",
    mart_target_achievement_history.c.area_code,
    mart_target_achievement_history.c.period,
    mart_target_achievement_history.c.indicator,
)
