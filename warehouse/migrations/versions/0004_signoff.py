"""sign-off per village-month (审核把关) and the mart's signed_off_share

Revision ID: 0004_signoff
Revises: 0002_figures
Create Date: 2026-11-29
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004_signoff"
down_revision = "0002_figures"
branch_labels = None
depends_on = None

_SHARE_COMMENT = "share of the village-months behind the row that are signed off (0-1)"
_MARTS = ("mart_target_achievement", "mart_target_achievement_history")


def upgrade() -> None:
    op.create_table(
        "village_signoffs",
        sa.Column("unit", sa.String(length=12), nullable=False, comment="village code"),
        sa.Column("report_month", sa.String(length=7), nullable=False, comment="YYYY-MM"),
        sa.Column("status", sa.Text(), nullable=False, comment="signed_off or withdrawn"),
        sa.Column(
            "files_sha256",
            sa.String(length=64),
            nullable=False,
            comment="digest of the files signed off",
        ),
        sa.Column(
            "files", sa.Text(), nullable=False, comment="names of the files signed off, one a line"
        ),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("signed_by", sa.Text(), nullable=False),
        sa.Column(
            "signed_at", sa.DateTime(), nullable=False, comment="local time of the configured zone"
        ),
        sa.Column("withdrawn_at", sa.DateTime(), nullable=True),
        sa.Column(
            "withdrawn_run",
            sa.Text(),
            nullable=True,
            comment="the run whose new upload withdrew the sign-off",
        ),
        sa.PrimaryKeyConstraint("unit", "report_month"),
        comment=(
            "One row per village-month a township officer signed off (审核把关): its latest "
            "sign-off, pinned to the sha256 of the village's files, or its withdrawal."
        ),
    )
    op.create_table(
        "village_signoff_events",
        sa.Column("event_id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("unit", sa.String(length=12), nullable=False),
        sa.Column("report_month", sa.String(length=7), nullable=False),
        sa.Column("action", sa.Text(), nullable=False, comment="signed_off or withdrawn"),
        sa.Column("at", sa.DateTime(), nullable=False, comment="local time of the configured zone"),
        sa.Column("by", sa.Text(), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("files_sha256", sa.String(length=64), nullable=False),
        sa.Column(
            "run_id",
            sa.Text(),
            nullable=True,
            comment="the run that withdrew it; null for an officer's sign-off",
        ),
        sa.PrimaryKeyConstraint("event_id"),
        comment="One row per sign-off or withdrawal of a village-month (who and when).",
    )
    with op.batch_alter_table("village_signoff_events", schema=None) as batch_op:
        batch_op.create_index(
            "ix_village_signoff_events_key", ["unit", "report_month"], unique=False
        )
    for table in _MARTS:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(
                sa.Column("signed_off_share", sa.Float(), nullable=True, comment=_SHARE_COMMENT)
            )


def downgrade() -> None:
    for table in _MARTS:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column("signed_off_share")
    with op.batch_alter_table("village_signoff_events", schema=None) as batch_op:
        batch_op.drop_index("ix_village_signoff_events_key")
    op.drop_table("village_signoff_events")
    op.drop_table("village_signoffs")
