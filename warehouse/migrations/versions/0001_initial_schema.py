"""initial schema

Revision ID: 0001
Revises: (none)
Create Date: 2026-11-28
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "dq_issue_events",
        sa.Column("event_id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("issue_id", sa.String(length=24), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("by", sa.Text(), nullable=False),
        sa.Column("from_status", sa.Text(), nullable=True),
        sa.Column("to_status", sa.Text(), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("run_id", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("event_id"),
        comment="One row per status change of a quality issue.",
    )
    with op.batch_alter_table("dq_issue_events", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_dq_issue_events_issue_id"), ["issue_id"], unique=False)

    op.create_table(
        "dq_issues",
        sa.Column("issue_id", sa.String(length=24), nullable=False),
        sa.Column("rule", sa.Text(), nullable=False),
        sa.Column("severity", sa.Text(), nullable=False),
        sa.Column("dimension", sa.Text(), nullable=False),
        sa.Column("source", sa.Text(), nullable=True),
        sa.Column("kind", sa.Text(), nullable=True),
        sa.Column("unit", sa.Text(), nullable=True),
        sa.Column("report_month", sa.String(length=7), nullable=True),
        sa.Column("file_name", sa.Text(), nullable=True),
        sa.Column("upload_id", sa.Integer(), nullable=True),
        sa.Column("row_number", sa.Integer(), nullable=True),
        sa.Column(
            "column_name",
            sa.Text(),
            nullable=True,
            comment="the template column the rule looked at",
        ),
        sa.Column(
            "record_key", sa.Text(), nullable=True, comment="masked ID, never the raw number"
        ),
        sa.Column(
            "value",
            sa.Text(),
            nullable=True,
            comment="the offending value, masked when it is an ID",
        ),
        sa.Column("message_zh", sa.Text(), nullable=False),
        sa.Column("message_en", sa.Text(), nullable=False),
        sa.Column(
            "status", sa.Text(), nullable=False, comment="open, acknowledged, resolved, waived"
        ),
        sa.Column("status_note", sa.Text(), nullable=True),
        sa.Column("status_by", sa.Text(), nullable=True),
        sa.Column("status_at", sa.DateTime(), nullable=True),
        sa.Column("first_seen_run", sa.Text(), nullable=False),
        sa.Column("last_seen_run", sa.Text(), nullable=False),
        sa.Column(
            "active",
            sa.Boolean(),
            nullable=False,
            comment="found by the latest run that checked it",
        ),
        sa.Column(
            "origin", sa.Text(), nullable=False, comment="the check: validation, reconciliation, …"
        ),
        sa.PrimaryKeyConstraint("issue_id"),
        comment="One row per data-quality problem.",
    )
    with op.batch_alter_table("dq_issues", schema=None) as batch_op:
        batch_op.create_index("ix_dq_issues_filter", ["status", "rule", "unit"], unique=False)

    op.create_table(
        "dq_reporting",
        sa.Column("unit", sa.Text(), nullable=False),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("kind", sa.Text(), nullable=False),
        sa.Column("report_month", sa.String(length=7), nullable=False),
        sa.Column("area_code", sa.String(length=12), nullable=False),
        sa.Column("received", sa.Boolean(), nullable=False),
        sa.Column("on_time", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("unit", "source", "kind", "report_month"),
        comment="One row per expected upload (unit × kind × month due).",
    )
    op.create_table(
        "mart_target_achievement",
        sa.Column(
            "area_code", sa.Text(), nullable=False, comment="village, township or county code"
        ),
        sa.Column("area_name", sa.Text(), nullable=True, comment="area name"),
        sa.Column("area_level", sa.Text(), nullable=True, comment="village, township or county"),
        sa.Column(
            "parent_code", sa.Text(), nullable=True, comment="parent area code; null for the county"
        ),
        sa.Column(
            "period",
            sa.Text(),
            nullable=False,
            comment="2026-09, 2026-01..2026-09, 2026-Q3, 2026-H2 or 2026",
        ),
        sa.Column("period_start", sa.Date(), nullable=True, comment="first day of the period"),
        sa.Column("period_end", sa.Date(), nullable=True, comment="last day of the period"),
        sa.Column("indicator", sa.Text(), nullable=False, comment="indicator code (indicators.md)"),
        sa.Column("indicator_name", sa.Text(), nullable=True, comment="指标中文名称"),
        sa.Column(
            "numerator", sa.Numeric(precision=18, scale=2), nullable=True, comment="numerator"
        ),
        sa.Column(
            "denominator",
            sa.Numeric(precision=18, scale=2),
            nullable=True,
            comment="denominator; null for counts",
        ),
        sa.Column(
            "value", sa.Float(), nullable=True, comment="unrounded value; percentages in percent"
        ),
        sa.Column("unit", sa.Text(), nullable=True, comment="%, count or ratio"),
        sa.Column("target_op", sa.Text(), nullable=True, comment=">=, <=, between or null"),
        sa.Column(
            "target", sa.Float(), nullable=True, comment="target value (lower bound for between)"
        ),
        sa.Column("target_hi", sa.Float(), nullable=True, comment="upper bound for between"),
        sa.Column("status", sa.Text(), nullable=True, comment="met, not_met, no_target or no_data"),
        sa.Column(
            "rank",
            sa.Integer(),
            nullable=True,
            comment="rank within parent and period, 1 = best; null without target",
        ),
        sa.Column("run_id", sa.Text(), nullable=True, comment="the run that published the row"),
        sa.PrimaryKeyConstraint("area_code", "period", "indicator"),
        comment="One row per area × period × indicator: the published target achievement.",
    )
    op.create_table(
        "mart_target_achievement_history",
        sa.Column("history_id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column(
            "area_code", sa.Text(), nullable=True, comment="village, township or county code"
        ),
        sa.Column("area_name", sa.Text(), nullable=True, comment="area name"),
        sa.Column("area_level", sa.Text(), nullable=True, comment="village, township or county"),
        sa.Column(
            "parent_code", sa.Text(), nullable=True, comment="parent area code; null for the county"
        ),
        sa.Column(
            "period",
            sa.Text(),
            nullable=True,
            comment="2026-09, 2026-01..2026-09, 2026-Q3, 2026-H2 or 2026",
        ),
        sa.Column("period_start", sa.Date(), nullable=True, comment="first day of the period"),
        sa.Column("period_end", sa.Date(), nullable=True, comment="last day of the period"),
        sa.Column("indicator", sa.Text(), nullable=True, comment="indicator code (indicators.md)"),
        sa.Column("indicator_name", sa.Text(), nullable=True, comment="指标中文名称"),
        sa.Column(
            "numerator", sa.Numeric(precision=18, scale=2), nullable=True, comment="numerator"
        ),
        sa.Column(
            "denominator",
            sa.Numeric(precision=18, scale=2),
            nullable=True,
            comment="denominator; null for counts",
        ),
        sa.Column(
            "value", sa.Float(), nullable=True, comment="unrounded value; percentages in percent"
        ),
        sa.Column("unit", sa.Text(), nullable=True, comment="%, count or ratio"),
        sa.Column("target_op", sa.Text(), nullable=True, comment=">=, <=, between or null"),
        sa.Column(
            "target", sa.Float(), nullable=True, comment="target value (lower bound for between)"
        ),
        sa.Column("target_hi", sa.Float(), nullable=True, comment="upper bound for between"),
        sa.Column("status", sa.Text(), nullable=True, comment="met, not_met, no_target or no_data"),
        sa.Column(
            "rank",
            sa.Integer(),
            nullable=True,
            comment="rank within parent and period, 1 = best; null without target",
        ),
        sa.Column("run_id", sa.Text(), nullable=True, comment="the run that published the row"),
        sa.PrimaryKeyConstraint("history_id"),
        comment="One row per area × period × indicator × publishing run: what was published when.",
    )
    with op.batch_alter_table("mart_target_achievement_history", schema=None) as batch_op:
        batch_op.create_index(
            "ix_mart_history_key", ["area_code", "period", "indicator"], unique=False
        )

    op.create_table(
        "recon_accuracy",
        sa.Column("upload_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("row_number", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("area_code", sa.String(length=12), nullable=True),
        sa.Column("report_month", sa.String(length=7), nullable=True),
        sa.Column("template", sa.Text(), nullable=False),
        sa.Column("accurate", sa.Boolean(), nullable=False),
        sa.Column("rule", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("upload_id", "row_number"),
        comment="One row per village row checked for accuracy (births and roster).",
    )
    op.create_table(
        "recon_births",
        sa.Column("birth_key", sa.String(length=64), nullable=False),
        sa.Column("area_code", sa.String(length=12), nullable=True),
        sa.Column("birth_date", sa.Date(), nullable=True),
        sa.Column("birth_month", sa.String(length=7), nullable=True),
        sa.Column("child_sex", sa.String(length=1), nullable=True),
        sa.Column("birth_order", sa.Integer(), nullable=True),
        sa.Column("policy_status", sa.Text(), nullable=True),
        sa.Column("in_village", sa.Boolean(), nullable=False),
        sa.Column("in_hospital", sa.Boolean(), nullable=False),
        sa.Column("in_police", sa.Boolean(), nullable=False),
        sa.Column("status", sa.Text(), nullable=False),
        sa.Column("mother_key", sa.String(length=64), nullable=True),
        sa.Column("matched_by", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("birth_key"),
        comment="One row per reconciled birth (village, hospital and police as one).",
    )
    op.create_table(
        "recon_changes",
        sa.Column("change_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("area_code", sa.String(length=12), nullable=True),
        sa.Column("change_type", sa.Text(), nullable=False),
        sa.Column("event_date", sa.Date(), nullable=True),
        sa.Column("event_month", sa.String(length=7), nullable=True),
        sa.Column("recorded_month", sa.String(length=7), nullable=True),
        sa.Column("timely", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("change_id"),
        comment="One row per change the village must record (a birth or a procedure).",
    )
    op.create_table(
        "recon_exams",
        sa.Column("exam_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("area_code", sa.String(length=12), nullable=True),
        sa.Column("exam_date", sa.Date(), nullable=True),
        sa.Column("exam_month", sa.String(length=7), nullable=True),
        sa.Column("couple_key", sa.String(length=64), nullable=True),
        sa.PrimaryKeyConstraint("exam_id"),
        comment="One row per pre-pregnancy exam of a couple.",
    )
    op.create_table(
        "recon_fees",
        sa.Column("report_month", sa.String(length=7), nullable=False),
        sa.Column("case_key", sa.String(length=64), nullable=False),
        sa.Column("area_code", sa.String(length=12), nullable=False),
        sa.Column("decision_date", sa.Date(), nullable=True),
        sa.Column("assessed", sa.Numeric(precision=14, scale=2), nullable=True),
        sa.Column("paid_to_date", sa.Numeric(precision=14, scale=2), nullable=True),
        sa.PrimaryKeyConstraint("report_month", "case_key"),
        comment="One row per fee case per monthly ledger.",
    )
    op.create_table(
        "recon_women",
        sa.Column("snapshot_month", sa.String(length=7), nullable=False),
        sa.Column("woman_key", sa.String(length=64), nullable=False),
        sa.Column("area_code", sa.String(length=12), nullable=False),
        sa.Column("residence", sa.Text(), nullable=True),
        sa.Column("children", sa.Integer(), nullable=True),
        sa.Column("method", sa.Text(), nullable=True),
        sa.Column("method_source", sa.Text(), nullable=True),
        sa.Column("last_check_date", sa.Date(), nullable=True),
        sa.Column("marriage_certificate", sa.Boolean(), nullable=True),
        sa.Column("file_created", sa.Boolean(), nullable=True),
        sa.Column("verified", sa.Boolean(), nullable=True),
        sa.Column("notified", sa.Boolean(), nullable=True),
        sa.PrimaryKeyConstraint("snapshot_month", "woman_key"),
        comment="One row per roster woman per monthly snapshot, after police and hospital records.",
    )
    op.create_table(
        "run_lock",
        sa.Column("lock_name", sa.Text(), nullable=False),
        sa.Column("run_id", sa.Text(), nullable=False),
        sa.Column("host", sa.Text(), nullable=False),
        sa.Column("pid", sa.Integer(), nullable=False),
        sa.Column("acquired_at", sa.DateTime(), nullable=False),
        sa.Column("heartbeat_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("lock_name"),
        comment="At most one row: the run that holds the warehouse.",
    )
    op.create_table(
        "runs",
        sa.Column("run_id", sa.Text(), nullable=False),
        sa.Column("started_at", sa.DateTime(), nullable=False),
        sa.Column("finished_at", sa.DateTime(), nullable=True),
        sa.Column("as_of", sa.Date(), nullable=False),
        sa.Column("status", sa.Text(), nullable=False, comment="running, completed, failed"),
        sa.Column("summary", sa.Text(), nullable=True, comment="JSON summary of the run"),
        sa.PrimaryKeyConstraint("run_id"),
        comment="One row per popstat run.",
    )
    op.create_table(
        "stg_exclusions",
        sa.Column("upload_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("row_number", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("template", sa.Text(), nullable=False),
        sa.Column(
            "rules", sa.Text(), nullable=False, comment="the error rules that exclude the row"
        ),
        sa.PrimaryKeyConstraint("upload_id", "row_number"),
        comment="One row per staged row excluded from reconciliation by an error-severity rule.",
    )
    op.create_table(
        "stg_hospital_births",
        sa.Column("upload_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("row_number", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("unit", sa.Text(), nullable=False),
        sa.Column("report_month", sa.String(length=7), nullable=False),
        sa.Column("cert_no", sa.Text(), nullable=True, comment="出生医学证明编号"),
        sa.Column(
            "err_cert_no", sa.Text(), nullable=True, comment="parse error code, null if fine"
        ),
        sa.Column("child_sex", sa.String(length=1), nullable=True, comment="新生儿性别"),
        sa.Column(
            "err_child_sex", sa.Text(), nullable=True, comment="parse error code, null if fine"
        ),
        sa.Column("birth_date", sa.Date(), nullable=True, comment="出生日期"),
        sa.Column(
            "err_birth_date", sa.Text(), nullable=True, comment="parse error code, null if fine"
        ),
        sa.Column("birth_weight", sa.Integer(), nullable=True, comment="出生体重(克)"),
        sa.Column(
            "err_birth_weight", sa.Text(), nullable=True, comment="parse error code, null if fine"
        ),
        sa.Column("mother_name", sa.Text(), nullable=True, comment="母亲姓名"),
        sa.Column(
            "err_mother_name", sa.Text(), nullable=True, comment="parse error code, null if fine"
        ),
        sa.Column("mother_id", sa.String(length=18), nullable=True, comment="母亲身份证号"),
        sa.Column(
            "mother_id_key", sa.String(length=64), nullable=True, comment="keyed hash of the ID"
        ),
        sa.Column(
            "err_mother_id", sa.Text(), nullable=True, comment="parse error code, null if fine"
        ),
        sa.Column("father_id", sa.String(length=18), nullable=True, comment="父亲身份证号"),
        sa.Column(
            "father_id_key", sa.String(length=64), nullable=True, comment="keyed hash of the ID"
        ),
        sa.Column(
            "err_father_id", sa.Text(), nullable=True, comment="parse error code, null if fine"
        ),
        sa.Column("village_code", sa.String(length=12), nullable=True, comment="母亲常住地代码"),
        sa.Column(
            "err_village_code", sa.Text(), nullable=True, comment="parse error code, null if fine"
        ),
        sa.PrimaryKeyConstraint("upload_id", "row_number"),
        comment="出生医学证明 (birth medical certificates): one row per uploaded row, normalised, with its upload and row number.",
    )
    op.create_table(
        "stg_hospital_checkups",
        sa.Column("upload_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("row_number", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("unit", sa.Text(), nullable=False),
        sa.Column("report_month", sa.String(length=7), nullable=False),
        sa.Column("id_number", sa.String(length=18), nullable=True, comment="身份证号"),
        sa.Column(
            "id_number_key", sa.String(length=64), nullable=True, comment="keyed hash of the ID"
        ),
        sa.Column(
            "err_id_number", sa.Text(), nullable=True, comment="parse error code, null if fine"
        ),
        sa.Column("name", sa.Text(), nullable=True, comment="姓名"),
        sa.Column("err_name", sa.Text(), nullable=True, comment="parse error code, null if fine"),
        sa.Column("check_date", sa.Date(), nullable=True, comment="检查日期"),
        sa.Column(
            "err_check_date", sa.Text(), nullable=True, comment="parse error code, null if fine"
        ),
        sa.Column("village_code", sa.String(length=12), nullable=True, comment="住址代码"),
        sa.Column(
            "err_village_code", sa.Text(), nullable=True, comment="parse error code, null if fine"
        ),
        sa.PrimaryKeyConstraint("upload_id", "row_number"),
        comment="三查记录 (IUD, pregnancy and gynaecological checks): one row per uploaded row, normalised, with its upload and row number.",
    )
    op.create_table(
        "stg_hospital_prepregnancy",
        sa.Column("upload_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("row_number", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("unit", sa.Text(), nullable=False),
        sa.Column("report_month", sa.String(length=7), nullable=False),
        sa.Column("wife_id", sa.String(length=18), nullable=True, comment="女方身份证号"),
        sa.Column(
            "wife_id_key", sa.String(length=64), nullable=True, comment="keyed hash of the ID"
        ),
        sa.Column(
            "err_wife_id", sa.Text(), nullable=True, comment="parse error code, null if fine"
        ),
        sa.Column("husband_id", sa.String(length=18), nullable=True, comment="男方身份证号"),
        sa.Column(
            "husband_id_key", sa.String(length=64), nullable=True, comment="keyed hash of the ID"
        ),
        sa.Column(
            "err_husband_id", sa.Text(), nullable=True, comment="parse error code, null if fine"
        ),
        sa.Column("exam_date", sa.Date(), nullable=True, comment="检查日期"),
        sa.Column(
            "err_exam_date", sa.Text(), nullable=True, comment="parse error code, null if fine"
        ),
        sa.Column("village_code", sa.String(length=12), nullable=True, comment="住址代码"),
        sa.Column(
            "err_village_code", sa.Text(), nullable=True, comment="parse error code, null if fine"
        ),
        sa.PrimaryKeyConstraint("upload_id", "row_number"),
        comment="免费孕前优生健康检查 (free pre-pregnancy health examinations): one row per uploaded row, normalised, with its upload and row number.",
    )
    op.create_table(
        "stg_hospital_procedures",
        sa.Column("upload_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("row_number", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("unit", sa.Text(), nullable=False),
        sa.Column("report_month", sa.String(length=7), nullable=False),
        sa.Column("id_number", sa.String(length=18), nullable=True, comment="身份证号"),
        sa.Column(
            "id_number_key", sa.String(length=64), nullable=True, comment="keyed hash of the ID"
        ),
        sa.Column(
            "err_id_number", sa.Text(), nullable=True, comment="parse error code, null if fine"
        ),
        sa.Column("name", sa.Text(), nullable=True, comment="姓名"),
        sa.Column("err_name", sa.Text(), nullable=True, comment="parse error code, null if fine"),
        sa.Column("procedure", sa.Text(), nullable=True, comment="手术类型"),
        sa.Column(
            "err_procedure", sa.Text(), nullable=True, comment="parse error code, null if fine"
        ),
        sa.Column("procedure_date", sa.Date(), nullable=True, comment="手术日期"),
        sa.Column(
            "err_procedure_date", sa.Text(), nullable=True, comment="parse error code, null if fine"
        ),
        sa.Column("village_code", sa.String(length=12), nullable=True, comment="住址代码"),
        sa.Column(
            "err_village_code", sa.Text(), nullable=True, comment="parse error code, null if fine"
        ),
        sa.PrimaryKeyConstraint("upload_id", "row_number"),
        comment="计划生育手术 (family-planning procedures): one row per uploaded row, normalised, with its upload and row number.",
    )
    op.create_table(
        "stg_police_hukou",
        sa.Column("upload_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("row_number", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("unit", sa.Text(), nullable=False),
        sa.Column("report_month", sa.String(length=7), nullable=False),
        sa.Column("event_type", sa.Text(), nullable=True, comment="变动类型"),
        sa.Column(
            "err_event_type", sa.Text(), nullable=True, comment="parse error code, null if fine"
        ),
        sa.Column("name", sa.Text(), nullable=True, comment="姓名"),
        sa.Column("err_name", sa.Text(), nullable=True, comment="parse error code, null if fine"),
        sa.Column("id_number", sa.String(length=18), nullable=True, comment="公民身份号码"),
        sa.Column(
            "id_number_key", sa.String(length=64), nullable=True, comment="keyed hash of the ID"
        ),
        sa.Column(
            "err_id_number", sa.Text(), nullable=True, comment="parse error code, null if fine"
        ),
        sa.Column("sex", sa.String(length=1), nullable=True, comment="性别"),
        sa.Column("err_sex", sa.Text(), nullable=True, comment="parse error code, null if fine"),
        sa.Column("birth_date", sa.Date(), nullable=True, comment="出生日期"),
        sa.Column(
            "err_birth_date", sa.Text(), nullable=True, comment="parse error code, null if fine"
        ),
        sa.Column("event_date", sa.Date(), nullable=True, comment="变动日期"),
        sa.Column(
            "err_event_date", sa.Text(), nullable=True, comment="parse error code, null if fine"
        ),
        sa.Column("village_code", sa.String(length=12), nullable=True, comment="村居代码"),
        sa.Column(
            "err_village_code", sa.Text(), nullable=True, comment="parse error code, null if fine"
        ),
        sa.Column("guardian_id", sa.String(length=18), nullable=True, comment="监护人身份证号"),
        sa.Column(
            "guardian_id_key", sa.String(length=64), nullable=True, comment="keyed hash of the ID"
        ),
        sa.Column(
            "err_guardian_id", sa.Text(), nullable=True, comment="parse error code, null if fine"
        ),
        sa.PrimaryKeyConstraint("upload_id", "row_number"),
        comment="户籍变动 (household-registration events): one row per uploaded row, normalised, with its upload and row number.",
    )
    op.create_table(
        "stg_village_births",
        sa.Column("upload_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("row_number", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("unit", sa.Text(), nullable=False),
        sa.Column("report_month", sa.String(length=7), nullable=False),
        sa.Column("mother_name", sa.Text(), nullable=True, comment="母亲姓名"),
        sa.Column(
            "err_mother_name", sa.Text(), nullable=True, comment="parse error code, null if fine"
        ),
        sa.Column("mother_id", sa.String(length=18), nullable=True, comment="母亲身份证号"),
        sa.Column(
            "mother_id_key", sa.String(length=64), nullable=True, comment="keyed hash of the ID"
        ),
        sa.Column(
            "err_mother_id", sa.Text(), nullable=True, comment="parse error code, null if fine"
        ),
        sa.Column("father_id", sa.String(length=18), nullable=True, comment="父亲身份证号"),
        sa.Column(
            "father_id_key", sa.String(length=64), nullable=True, comment="keyed hash of the ID"
        ),
        sa.Column(
            "err_father_id", sa.Text(), nullable=True, comment="parse error code, null if fine"
        ),
        sa.Column("child_name", sa.Text(), nullable=True, comment="婴儿姓名"),
        sa.Column(
            "err_child_name", sa.Text(), nullable=True, comment="parse error code, null if fine"
        ),
        sa.Column("child_id", sa.String(length=18), nullable=True, comment="婴儿身份证号"),
        sa.Column(
            "child_id_key", sa.String(length=64), nullable=True, comment="keyed hash of the ID"
        ),
        sa.Column(
            "err_child_id", sa.Text(), nullable=True, comment="parse error code, null if fine"
        ),
        sa.Column("child_sex", sa.String(length=1), nullable=True, comment="婴儿性别"),
        sa.Column(
            "err_child_sex", sa.Text(), nullable=True, comment="parse error code, null if fine"
        ),
        sa.Column("birth_date", sa.Date(), nullable=True, comment="出生日期"),
        sa.Column(
            "err_birth_date", sa.Text(), nullable=True, comment="parse error code, null if fine"
        ),
        sa.Column("birth_order", sa.Integer(), nullable=True, comment="孩次"),
        sa.Column(
            "err_birth_order", sa.Text(), nullable=True, comment="parse error code, null if fine"
        ),
        sa.Column("policy_status", sa.Text(), nullable=True, comment="政策属性"),
        sa.Column(
            "err_policy_status", sa.Text(), nullable=True, comment="parse error code, null if fine"
        ),
        sa.Column("report_date", sa.Date(), nullable=True, comment="填报日期"),
        sa.Column(
            "err_report_date", sa.Text(), nullable=True, comment="parse error code, null if fine"
        ),
        sa.Column("remarks", sa.Text(), nullable=True, comment="备注"),
        sa.Column(
            "err_remarks", sa.Text(), nullable=True, comment="parse error code, null if fine"
        ),
        sa.PrimaryKeyConstraint("upload_id", "row_number"),
        comment="出生登记 (births reported by the village): one row per uploaded row, normalised, with its upload and row number.",
    )
    op.create_table(
        "stg_village_fees",
        sa.Column("upload_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("row_number", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("unit", sa.Text(), nullable=False),
        sa.Column("report_month", sa.String(length=7), nullable=False),
        sa.Column("case_no", sa.Text(), nullable=True, comment="案件编号"),
        sa.Column(
            "err_case_no", sa.Text(), nullable=True, comment="parse error code, null if fine"
        ),
        sa.Column("party_id", sa.String(length=18), nullable=True, comment="当事人身份证号"),
        sa.Column(
            "party_id_key", sa.String(length=64), nullable=True, comment="keyed hash of the ID"
        ),
        sa.Column(
            "err_party_id", sa.Text(), nullable=True, comment="parse error code, null if fine"
        ),
        sa.Column("party_name", sa.Text(), nullable=True, comment="当事人姓名"),
        sa.Column(
            "err_party_name", sa.Text(), nullable=True, comment="parse error code, null if fine"
        ),
        sa.Column("decision_date", sa.Date(), nullable=True, comment="征收决定日期"),
        sa.Column(
            "err_decision_date", sa.Text(), nullable=True, comment="parse error code, null if fine"
        ),
        sa.Column("assessed", sa.Numeric(precision=14, scale=2), nullable=True, comment="应征金额"),
        sa.Column(
            "err_assessed", sa.Text(), nullable=True, comment="parse error code, null if fine"
        ),
        sa.Column(
            "paid_this_month",
            sa.Numeric(precision=14, scale=2),
            nullable=True,
            comment="本月缴纳金额",
        ),
        sa.Column(
            "err_paid_this_month",
            sa.Text(),
            nullable=True,
            comment="parse error code, null if fine",
        ),
        sa.Column(
            "paid_to_date", sa.Numeric(precision=14, scale=2), nullable=True, comment="累计缴纳金额"
        ),
        sa.Column(
            "err_paid_to_date", sa.Text(), nullable=True, comment="parse error code, null if fine"
        ),
        sa.PrimaryKeyConstraint("upload_id", "row_number"),
        comment="社会抚养费征收台账 (social maintenance fee ledger): one row per uploaded row, normalised, with its upload and row number.",
    )
    op.create_table(
        "stg_village_women",
        sa.Column("upload_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("row_number", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("unit", sa.Text(), nullable=False),
        sa.Column("report_month", sa.String(length=7), nullable=False),
        sa.Column("name", sa.Text(), nullable=True, comment="姓名"),
        sa.Column("err_name", sa.Text(), nullable=True, comment="parse error code, null if fine"),
        sa.Column("id_number", sa.String(length=18), nullable=True, comment="身份证号"),
        sa.Column(
            "id_number_key", sa.String(length=64), nullable=True, comment="keyed hash of the ID"
        ),
        sa.Column(
            "err_id_number", sa.Text(), nullable=True, comment="parse error code, null if fine"
        ),
        sa.Column("ethnicity", sa.Text(), nullable=True, comment="民族"),
        sa.Column(
            "err_ethnicity", sa.Text(), nullable=True, comment="parse error code, null if fine"
        ),
        sa.Column("residence", sa.Text(), nullable=True, comment="人口类别"),
        sa.Column(
            "err_residence", sa.Text(), nullable=True, comment="parse error code, null if fine"
        ),
        sa.Column("children", sa.Integer(), nullable=True, comment="现有子女数"),
        sa.Column(
            "err_children", sa.Text(), nullable=True, comment="parse error code, null if fine"
        ),
        sa.Column("method", sa.Text(), nullable=True, comment="避孕措施"),
        sa.Column("err_method", sa.Text(), nullable=True, comment="parse error code, null if fine"),
        sa.Column("method_date", sa.Date(), nullable=True, comment="措施落实日期"),
        sa.Column(
            "err_method_date", sa.Text(), nullable=True, comment="parse error code, null if fine"
        ),
        sa.Column("last_check_date", sa.Date(), nullable=True, comment="最近三查日期"),
        sa.Column(
            "err_last_check_date",
            sa.Text(),
            nullable=True,
            comment="parse error code, null if fine",
        ),
        sa.Column("marriage_certificate", sa.Boolean(), nullable=True, comment="婚育证明"),
        sa.Column(
            "err_marriage_certificate",
            sa.Text(),
            nullable=True,
            comment="parse error code, null if fine",
        ),
        sa.Column("file_created", sa.Boolean(), nullable=True, comment="建档"),
        sa.Column(
            "err_file_created", sa.Text(), nullable=True, comment="parse error code, null if fine"
        ),
        sa.Column("verified", sa.Boolean(), nullable=True, comment="验证"),
        sa.Column(
            "err_verified", sa.Text(), nullable=True, comment="parse error code, null if fine"
        ),
        sa.Column("notified", sa.Boolean(), nullable=True, comment="信息通报"),
        sa.Column(
            "err_notified", sa.Text(), nullable=True, comment="parse error code, null if fine"
        ),
        sa.PrimaryKeyConstraint("upload_id", "row_number"),
        comment="已婚育龄妇女花名册 (roster of married women aged 15-49): one row per uploaded row, normalised, with its upload and row number.",
    )
    op.create_table(
        "uploads",
        sa.Column("upload_id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("file_name", sa.Text(), nullable=False),
        sa.Column("path", sa.Text(), nullable=False, comment="path relative to the inbox"),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("size_bytes", sa.BigInteger(), nullable=False),
        sa.Column("source", sa.Text(), nullable=True),
        sa.Column("kind", sa.Text(), nullable=True),
        sa.Column("unit", sa.Text(), nullable=True),
        sa.Column("report_month", sa.String(length=7), nullable=True, comment="YYYY-MM"),
        sa.Column("arrived_at", sa.DateTime(), nullable=False),
        sa.Column("rows", sa.Integer(), nullable=True),
        sa.Column("late", sa.Boolean(), nullable=True),
        sa.Column(
            "status",
            sa.Text(),
            nullable=False,
            comment="loaded, superseded, duplicate, quarantined",
        ),
        sa.Column("reason_code", sa.Text(), nullable=True),
        sa.Column("reason_zh", sa.Text(), nullable=True),
        sa.Column("reason_en", sa.Text(), nullable=True),
        sa.Column("encoding", sa.Text(), nullable=True),
        sa.Column("header_row", sa.Integer(), nullable=True),
        sa.Column(
            "duplicate_of",
            sa.Integer(),
            nullable=True,
            comment="upload_id of the first file with the same bytes",
        ),
        sa.Column(
            "staged_path",
            sa.Text(),
            nullable=True,
            comment="normalised rows, relative to the raw folder",
        ),
        sa.Column(
            "validated_run",
            sa.Text(),
            nullable=True,
            comment="the run whose quality checks covered this upload",
        ),
        sa.Column("run_id", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("upload_id"),
        comment="One row per file received (the manifest).",
    )
    with op.batch_alter_table("uploads", schema=None) as batch_op:
        batch_op.create_index(
            "ix_uploads_identity", ["source", "kind", "unit", "report_month"], unique=False
        )
        batch_op.create_index("ix_uploads_sha256", ["sha256"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("uploads", schema=None) as batch_op:
        batch_op.drop_index("ix_uploads_sha256")
        batch_op.drop_index("ix_uploads_identity")

    op.drop_table("uploads")
    op.drop_table("stg_village_women")
    op.drop_table("stg_village_fees")
    op.drop_table("stg_village_births")
    op.drop_table("stg_police_hukou")
    op.drop_table("stg_hospital_procedures")
    op.drop_table("stg_hospital_prepregnancy")
    op.drop_table("stg_hospital_checkups")
    op.drop_table("stg_hospital_births")
    op.drop_table("stg_exclusions")
    op.drop_table("runs")
    op.drop_table("run_lock")
    op.drop_table("recon_women")
    op.drop_table("recon_fees")
    op.drop_table("recon_exams")
    op.drop_table("recon_changes")
    op.drop_table("recon_births")
    op.drop_table("recon_accuracy")
    with op.batch_alter_table("mart_target_achievement_history", schema=None) as batch_op:
        batch_op.drop_index("ix_mart_history_key")

    op.drop_table("mart_target_achievement_history")
    op.drop_table("mart_target_achievement")
    op.drop_table("dq_reporting")
    with op.batch_alter_table("dq_issues", schema=None) as batch_op:
        batch_op.drop_index("ix_dq_issues_filter")

    op.drop_table("dq_issues")
    with op.batch_alter_table("dq_issue_events", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_dq_issue_events_issue_id"))

    op.drop_table("dq_issue_events")
