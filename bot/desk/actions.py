"""What the operator console calls (issue 12): the desk service's actions, each followed by its
event on the live feed and a wake-up of the relay (so a reply reaches Telegram at once).

The console (bot/operator, another part) owns the accounts and the pages; it passes the signed-in
operator as `Operator(id, name)` and reads the queue, the context and the transcript through
`backend.services.desk` directly."""

from __future__ import annotations

from collections.abc import Callable

from backend.bootstrap import Backend
from backend.services import desk
from backend.services.desk import DeskMessage, Operator
from bot.desk import feed as events
from bot.desk.feed import DeskEvent, Feed


class DeskActions:
    def __init__(
        self, backend: Backend, feed: Feed, *, wake: Callable[[], None] | None = None
    ) -> None:
        self.backend = backend
        self.feed = feed
        self.wake = wake or (lambda: None)

    async def _publish(self, kind: str, chat_id: int, **data: object) -> None:
        await self.feed.publish(DeskEvent(kind, chat_id, self.backend.clock.now(), dict(data)))

    async def claim(self, chat_id: int, operator: Operator) -> bool:
        won = await desk.claim(self.backend.uow(), chat_id, operator, self.backend.clock.now())
        if won:
            await self._publish(events.CLAIMED, chat_id, operator_id=operator.id)
        return won

    async def reply(self, chat_id: int, operator: Operator, text: str) -> DeskMessage:
        message = await desk.reply(
            self.backend.uow(), chat_id, operator, text, self.backend.clock.now()
        )
        self.wake()
        await self._publish(events.MESSAGE, chat_id, message_id=message.id, sender="operator")
        return message

    async def hand_back(self, chat_id: int, operator: Operator) -> None:
        await desk.hand_back(self.backend.uow(), chat_id, operator, self.backend.clock.now())
        self.wake()
        await self._publish(events.HANDED_BACK, chat_id, operator_id=operator.id)

    async def close(self, chat_id: int, operator: Operator, reason: str = "resolved") -> None:
        await desk.close(self.backend.uow(), chat_id, operator, self.backend.clock.now(), reason)
        self.wake()
        await self._publish(events.CLOSED, chat_id, operator_id=operator.id)

    async def reassign(self, chat_id: int, to: Operator, supervisor: Operator) -> None:
        await desk.reassign(self.backend.uow(), chat_id, to, supervisor, self.backend.clock.now())
        await self._publish(events.CLAIMED, chat_id, operator_id=to.id)
