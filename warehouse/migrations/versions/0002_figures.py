"""figures a township can be judged on

recon_births gains village_report_month and reported_on_time (漏报 that stays
counted); both mart tables gain period_complete and the status `too_few`;
recon_exams holds a couple once per year (distinct couples).

Revision ID: 0002_figures
Revises: 0001
Create Date: 2026-11-29
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002_figures"
down_revision = "0001"
branch_labels = None
depends_on = None

_MARTS = ("mart_target_achievement", "mart_target_achievement_history")
_STATUS_BEFORE = "met, not_met, no_target or no_data"
_STATUS_AFTER = "met, not_met, no_target, no_data or too_few"


_EXAMS_BEFORE = "One row per pre-pregnancy exam of a couple."
_EXAMS_AFTER = "One row per couple and year: the couple's first pre-pregnancy exam of the year."


def upgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":  # SQLite keeps no comments
        op.create_table_comment("recon_exams", _EXAMS_AFTER, existing_comment=_EXAMS_BEFORE)
    with op.batch_alter_table("recon_births", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column(
                "village_report_month",
                sa.String(length=7),
                nullable=True,
                comment="upload month of the valid village row that reported the birth; "
                "null if none",
            )
        )
        batch_op.add_column(
            sa.Column(
                "reported_on_time",
                sa.Boolean(),
                nullable=True,
                comment="in the village's upload of the birth month or the next; "
                "null while pending",
            )
        )
    for table in _MARTS:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(
                sa.Column(
                    "period_complete",
                    sa.Boolean(),
                    nullable=True,
                    comment="every month of the period is due at the run's as-of date",
                )
            )
            batch_op.alter_column(
                "status",
                existing_type=sa.Text(),
                existing_nullable=True,
                comment=_STATUS_AFTER,
                existing_comment=_STATUS_BEFORE,
            )


def downgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        op.create_table_comment("recon_exams", _EXAMS_BEFORE, existing_comment=_EXAMS_AFTER)
    for table in _MARTS:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.alter_column(
                "status",
                existing_type=sa.Text(),
                existing_nullable=True,
                comment=_STATUS_BEFORE,
                existing_comment=_STATUS_AFTER,
            )
            batch_op.drop_column("period_complete")
    with op.batch_alter_table("recon_births", schema=None) as batch_op:
        batch_op.drop_column("reported_on_time")
        batch_op.drop_column("village_report_month")
