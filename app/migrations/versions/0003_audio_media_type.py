"""The media type of each job's audio, as probed (the audio is served with it).

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"


def upgrade() -> None:
    with op.batch_alter_table("jobs") as batch:
        batch.add_column(sa.Column("audio_media_type", sa.String(100)))


def downgrade() -> None:
    with op.batch_alter_table("jobs") as batch:
        batch.drop_column("audio_media_type")
