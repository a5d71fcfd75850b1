"""reconciled rows by township partition, and the partitions published

Revision ID: 0005_partitions
Revises: 0004_signoff
Create Date: 2026-11-29
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005_partitions"
down_revision = "0004_signoff"
branch_labels = None
depends_on = None

_COMMENT = "the township whose results the row is (transforms.reconcile.partitions)"
_TABLES = (
    "dq_reporting",
    "recon_births",
    "recon_women",
    "recon_fees",
    "recon_exams",
    "recon_changes",
    "recon_accuracy",
)


def upgrade() -> None:
    # Rows published before partitions have none: the next publish replaces them.
    for table in _TABLES:
        with op.batch_alter_table(table) as batch:
            batch.add_column(sa.Column("partition", sa.Text(), comment=_COMMENT))
        op.create_index(f"ix_{table}_partition", table, ["partition"])
    op.create_table(
        "recon_partitions",
        sa.Column("partition", sa.Text(), primary_key=True),
        sa.Column(
            "digest",
            sa.String(length=64),
            nullable=False,
            comment="digest of the partition's inputs",
        ),
        sa.Column("run_id", sa.Text(), nullable=False, comment="the run that published its rows"),
        comment="One row per township partition whose reconciled rows are published.",
    )


def downgrade() -> None:
    op.drop_table("recon_partitions")
    for table in _TABLES:
        op.drop_index(f"ix_{table}_partition", table_name=table)
        with op.batch_alter_table(table) as batch:
            batch.drop_column("partition")
