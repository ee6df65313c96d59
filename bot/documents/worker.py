"""S17-S19 statements are automated (the standards' row 2): this worker picks up every
registered request without a statement, looks the person up in the dispensary register and
issues the signed statement (SYSTEM completes; the patient is notified with the document).
Polls every few seconds: a request is answered within seconds, well inside the 30 minutes."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from backend.bootstrap import Backend
from backend.services import documents
from backend.services.documents import Documents
from bot.logs import get_logger
from bot.polling import first_round_delay

log = get_logger("bot.documents")


class StatementWorker:
    def __init__(
        self,
        backend: Backend,
        ports: Callable[[], Documents],
        *,
        poll_seconds: float = 2.0,
        batch: int = 20,
    ) -> None:
        self.backend = backend
        self.ports = ports
        self.poll_seconds = poll_seconds
        self.batch = batch

    async def run_once(self) -> int:
        """Issue the statements waiting now; how many were issued."""
        numbers = await documents.pending_statements(self.backend.uow(), limit=self.batch)
        issued = 0
        for number in numbers:
            try:
                await documents.issue_statement(
                    self.backend.uow(), self.ports(), number, now=self.backend.clock.now()
                )
                issued += 1
            except Exception as exc:  # one broken request must not stop the others
                log.error("statement_failed", number=number, error=type(exc).__name__)
        return issued

    async def run_forever(self, stopping: asyncio.Event) -> None:
        await first_round_delay()  # the loops of a starting process do not all start at once
        failures = 0
        while not stopping.is_set():
            try:
                await self.run_once()
                failures = 0
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                failures += 1
                if failures == 1 or failures % 20 == 0:
                    log.warning("statement_round_failed", error=type(exc).__name__)
            try:
                async with asyncio.timeout(self.poll_seconds * (2 ** min(failures, 5))):
                    await stopping.wait()
            except TimeoutError:
                pass
