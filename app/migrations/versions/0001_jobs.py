"""The jobs table.

Revision ID: 0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None


def upgrade() -> None:
    op.create_table(
        "jobs",
        sa.Column("id", sa.String(32), primary_key=True),
        sa.Column("status", sa.String(16), nullable=False, index=True),
        sa.Column("stage", sa.String(16), nullable=False),
        sa.Column("progress", sa.Float, nullable=False),
        sa.Column("created_at", sa.Float, nullable=False, index=True),
        sa.Column("started_at", sa.Float),
        sa.Column("finished_at", sa.Float),
        sa.Column("attempts", sa.Integer, nullable=False),
        sa.Column("lease_expires_at", sa.Float),
        sa.Column("cancel_requested", sa.Boolean, nullable=False),
        sa.Column("model", sa.String(200), nullable=False),
        sa.Column("language", sa.String(16)),
        sa.Column("detected_language", sa.String(16)),
        sa.Column("audio_filename", sa.String(300)),
        sa.Column("audio_bytes", sa.Integer, nullable=False),
        sa.Column("audio_duration_s", sa.Float),
        sa.Column("callback_url", sa.Text),
        sa.Column("client_metadata", sa.Text),
        sa.Column("words_aligned", sa.Integer),
        sa.Column("words_not_found", sa.Integer),
        sa.Column("words_non_speech", sa.Integer),
        sa.Column("error_code", sa.String(64)),
        sa.Column("error_message", sa.Text),
    )


def downgrade() -> None:
    op.drop_table("jobs")
