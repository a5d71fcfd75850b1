"""the publishing home's copies of the published mart, named by a token

Revision ID: 0006_published_copies
Revises: 0005_partitions
Create Date: 2026-11-30

From here on, a migration that changes the rows of a copied table (today
mart_target_achievement) deletes that table's row in published_copies: the next publish
then diffs against the table itself.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006_published_copies"
down_revision = "0005_partitions"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "published_copies",
        sa.Column("published", sa.Text(), primary_key=True, comment="the published table copied"),
        sa.Column(
            "token",
            sa.Text(),
            nullable=False,
            comment="names the copy: <home>/published-copies/<token>.parquet",
        ),
        sa.Column(
            "run_id", sa.Text(), nullable=False, comment="the run that published the copied rows"
        ),
        comment=(
            "One row per published table of which the publishing home keeps a Parquet copy "
            "(the next publish's diff reads it instead of the table). Written in the publish's "
            "transaction; a publish that keeps no copy deletes the row. A migration that "
            "changes a copied table's rows must delete its row too."
        ),
    )


def downgrade() -> None:
    op.drop_table("published_copies")
