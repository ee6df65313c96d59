"""The migrations build exactly the schema the code maps (no autogenerate drift)."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy.engine import Connection

from backend.adapters.orm import metadata
from backend.bootstrap import Backend


def _diff(connection: Connection) -> list[object]:
    context = MigrationContext.configure(connection)
    return list(compare_metadata(context, metadata))


async def test_migrated_schema_matches_the_mapped_tables(backend: Backend) -> None:
    async with backend.engine.connect() as conn:
        diff = await conn.run_sync(_diff)

    assert diff == []
