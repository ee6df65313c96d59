"""A second, independent database for tests that compare two of them (determinism, JSON vs CSV).

The database under test is the shared `backend` fixture of tests/conftest.py.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from backend.adapters.db import migrate
from backend.bootstrap import Backend, bootstrap


async def fresh_sqlite(path: Path) -> Backend:
    """A newly migrated SQLite database at `path` (the caller closes it)."""
    url = f"sqlite+aiosqlite:///{path}"
    await asyncio.to_thread(migrate, url)
    return bootstrap(url)
