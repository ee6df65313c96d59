"""In front of the dialog engine: a conversation that waits for or is with an operator never
reaches the bot (issue 12). Its messages go to the transcript and the live feed."""

from __future__ import annotations

from backend.bootstrap import Backend
from backend.services import desk
from backend.services.desk import DeskChat, DeskState
from bot.desk import feed as events
from bot.desk.feed import DeskEvent, Feed
from dialogs.journeys.common import OPERATOR_QUEUED as QUEUED_STATE

MAX_TEXT = 4000  # one Telegram message; a longer one is cut (nothing is lost by SMS: 1600)


class DeskGate:
    def __init__(self, backend: Backend, feed: Feed) -> None:
        self.backend = backend
        self.feed = feed

    async def open_chat(self, channel: str, user_id: str) -> DeskChat | None:
        return await desk.open_chat(self.backend.uow(), channel, user_id)

    async def pass_on(self, chat: DeskChat, text: str) -> int | None:
        """Store the patient's message; the place in the queue when the chat still waits."""
        now = self.backend.clock.now()
        message = await desk.record_patient_message(
            self.backend.uow(), chat.id, text[:MAX_TEXT], now
        )
        await self.feed.publish(
            DeskEvent(events.MESSAGE, chat.id, now, {"message_id": message.id, "from": "patient"})
        )
        if chat.state is not DeskState.WAITING:
            return None
        return await desk.place(self.backend.uow(), chat.id)

    async def leave(self, chat: DeskChat) -> bool:
        now = self.backend.clock.now()
        left = await desk.leave_queue(self.backend.uow(), chat.id, now)
        if left:
            await self.feed.publish(DeskEvent(events.LEFT, chat.id, now))
        return left

    async def after_screen(self, channel: str, user_id: str, state: str) -> None:
        """The dialog has just queued the conversation (the operator screen's «Write to an
        operator»): tell the console."""
        if state != QUEUED_STATE:
            return
        chat = await self.open_chat(channel, user_id)
        if chat is not None and chat.state is DeskState.WAITING:
            now = self.backend.clock.now()
            await self.feed.publish(DeskEvent(events.QUEUED, chat.id, now, {"channel": channel}))
