"""The 1414 desk's pages for operators (issue 12); supervisors use them too.

- `/operator/desk`: the queue (call-back messages left outside the hours first, then the
  waiting chats with their waiting time, channel, language, reason and the step they were at)
  and the operator's own chats; both lists are kept live by server-sent events.
- `POST /operator/desk/chat/{id}/claim`: take a waiting chat (one conditional UPDATE in
  backend.services.desk: of two operators exactly one wins; the other is told it is taken).
- `/operator/desk/chat/{id}`: the conversation: the context panel (masked ИИН and phone, the
  dialog step and what was entered, open applications, the reason), the whole transcript kept
  live, a reply box with the SMS segment counter (bot/operator/static/desk.js counts exactly
  as bot/sms/segments.py, with that module's own alphabet), quick replies in the patient's
  language, hand back to the bot, close with a reason. Every look is a `desk_access_log` row.

An operator opens only the chats they hold (else a 403 page); a supervisor may look at any chat
but acts only on their own. Actions go through bot.desk.actions (the live feed and the relay).
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import json
import re
from collections.abc import AsyncIterator, Callable, Mapping
from typing import TYPE_CHECKING, Any, Final

from aiohttp import web

from backend.domain.iin import mask_iin
from backend.domain.phone import mask_phone
from backend.services import desk, staff
from backend.services.desk import ALMATY, DeskChat, DeskMessage, DeskRefusal, DeskState, Sender
from bot.desk import feed as events
from bot.desk import texts
from bot.desk.channel import DESK_KEY, Desk
from bot.desk.feed import DeskEvent, Listening
from bot.logs import get_logger
from bot.operator.clinic_pages import GROUNDS, SERVICES, STATUSES
from bot.operator.language import C_, Words
from bot.operator.web import Event, event_stream, form, render, require, words
from bot.sanitize import clean_text
from bot.sms import segments

if TYPE_CHECKING:
    from bot.operator.console import StaffConsole

log = get_logger("bot.operator.desk")

CHAT_ID: Final = r"[0-9]{1,12}"
POLL_SECONDS: Final = 5.0
# Tests poll faster: app[DESK_POLL_KEY] = 0.1 on the main application.
DESK_POLL_KEY: Final = web.AppKey("desk_poll_seconds", float)
# The longest reply: one Telegram message holds 4096 characters with the prefix; an SMS of
# 1,600 characters is what Twilio sends at most (anything longer is refused by it).
MAX_REPLY: Final = {"telegram": 4000, "sms": 1500}
SMS_WARN_SEGMENTS: Final = 2  # issue 12: a visible warning over 2 segments on SMS

REASONS: Final[Mapping[str, str]] = {
    "operator": C_("Asked for an operator"),
    "three_strikes": C_("Three failed inputs in a row"),
}
CHANNELS: Final[Mapping[str, str]] = {"telegram": C_("Telegram"), "sms": C_("SMS")}
LANGUAGE_NAMES: Final[Mapping[str, str]] = {
    "kk": C_("Kazakh"),
    "ru": C_("Russian"),
    "en": C_("English"),
}
CLOSE_REASONS: Final[Mapping[str, str]] = {
    "resolved": C_("The question is resolved"),
    "referred": C_("Referred to the clinic, 103 or another service"),
    "no_answer": C_("The patient does not answer"),
    "not_a_question": C_("Not a question for 1414"),
}
SYSTEM_KINDS: Final[Mapping[desk.MessageKind, str]] = {
    desk.MessageKind.HANDED_BACK: C_("Handed back to the bot."),
    desk.MessageKind.CLOSED: C_(
        "The chat was closed; the patient is asked the quality questions."
    ),
    desk.MessageKind.LONG_WAIT: C_("The patient was told the wait is longer than usual."),
    desk.MessageKind.REQUEUED: C_("Back in the queue: the operator did not answer."),
    desk.MessageKind.IDLE_CLOSED: C_("Closed: the patient did not answer for a long time."),
}
# What the operator may insert in the reply box, shown and sent in the patient's language.
QUICK_REPLIES: Final = (
    C_("Hello! This is the 1414 contact centre. How can I help you?"),
    C_("One moment, please: I am checking."),
    C_("Please write the number of your application."),
    C_("Is there anything else I can help you with?"),
    C_("Thank you for contacting 1414. Be well!"),
)

DONE: Final[Mapping[str, str]] = {
    "handed_back": C_("The chat is handed back to the bot."),
    "closed": C_("The chat is closed; the patient is asked the two quality questions."),
}
TAKEN: Final = C_("This chat has just been taken by another operator.")
NOT_WAITING: Final = C_("This chat is no longer waiting: the patient has left or it was closed.")
NOT_YOURS: Final = C_(
    "This chat is not yours: it is with another operator or back with the bot. "
    "Open your chats from the queue page."
)
NO_LONGER_YOURS: Final = C_(
    "The chat is no longer yours (handed back, closed or given to another operator): "
    "nothing was sent."
)
MOVED: Final = C_(
    "This chat has left this page: it was handed back, closed, returned to the queue or "
    "given to another operator."
)
NO_SUCH_CHAT: Final = C_("There is no such chat.")
EMPTY_REPLY: Final = C_("Write a reply first: the box is empty.")
LONG_REPLY: Final = C_("The reply is too long: at most {limit} characters (now {length}).")
NO_CLOSE_REASON: Final = C_("Choose why the chat is closed.")
UNSENT: Final = C_("Your reply that was not sent:")

_IIN = re.compile(r"(?<!\d)\d{12}(?!\d)")
_PHONE = re.compile(r"\+?[78][\s\-()]*\d(?:[\s\-()]*\d){9}")
_QUEUE_KINDS: Final = frozenset(
    {
        events.QUEUED,
        events.CLAIMED,
        events.LEFT,
        events.REQUEUED,
        events.CLOSED,
        events.HANDED_BACK,
    }
)


def add_routes(sub: web.Application, console: StaffConsole) -> None:
    pages = DeskPages(console)
    sub.router.add_get("/desk", pages.queue, name="desk_queue")
    sub.router.add_get("/desk/events", pages.queue_events, name="desk_events")
    chat = f"/desk/chat/{{chat_id:{CHAT_ID}}}"
    sub.router.add_get(chat, pages.chat, name="desk_chat")
    sub.router.add_get(f"{chat}/events", pages.chat_events, name="desk_chat_events")
    sub.router.add_post(f"{chat}/claim", pages.claim, name="desk_claim")
    sub.router.add_post(f"{chat}/reply", pages.reply, name="desk_reply")
    sub.router.add_post(f"{chat}/handback", pages.hand_back, name="desk_hand_back")
    sub.router.add_post(f"{chat}/close", pages.close, name="desk_close")


def _local(moment: dt.datetime) -> str:
    return moment.astimezone(ALMATY).strftime("%d.%m %H:%M")


def _waited(said: Words, waited: dt.timedelta) -> str:
    minutes = max(0, int(waited.total_seconds() // 60))
    if minutes < 60:
        return said(C_("{minutes} min"), minutes=minutes)
    return said(C_("{hours} h {minutes} min"), hours=minutes // 60, minutes=minutes % 60)


def masked(value: object) -> str:
    """A value the patient entered, as the operator sees it: any ИИН or phone masked."""
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    text = _IIN.sub(lambda m: mask_iin(m[0]), text)
    text = _PHONE.sub(lambda m: mask_phone("+7" + re.sub(r"\D", "", m[0])[-10:]), text)
    return text[:200]


def operator(signed_in: staff.StaffSession) -> desk.Operator:
    return desk.Operator(signed_in.account.id, signed_in.account.display_name)


class NotYours(Exception):
    """An operator asked for a chat they do not hold."""


class DeskPages:
    def __init__(self, console: StaffConsole) -> None:
        self.console = console
        self.backend = console.backend

    def now(self) -> dt.datetime:
        return self.console.now()

    @staticmethod
    def desk(request: web.Request) -> Desk:
        return request.config_dict[DESK_KEY]

    @staticmethod
    def _poll(request: web.Request) -> float:
        return float(request.config_dict.get(DESK_POLL_KEY, POLL_SECONDS))

    # --- the queue -----------------------------------------------------------------------

    def _row(
        self, said: Words, chat: DeskChat, waited: dt.timedelta | None = None
    ) -> dict[str, Any]:
        step = chat.snapshot.get("state")
        return {
            "id": chat.id,
            "channel": said(CHANNELS.get(chat.channel, chat.channel)),
            "channel_code": chat.channel,
            "language": said(LANGUAGE_NAMES.get(chat.language, chat.language)),
            "reason": said(REASONS[chat.reason]) if chat.reason in REASONS else chat.reason,
            "step": step if isinstance(step, str) else "",
            "queued": _local(chat.queued_at),
            "waited": _waited(said, waited) if waited is not None else "",
            "url": f"/operator/desk/chat/{chat.id}",
        }

    async def _lists(
        self, said: Words, signed_in: staff.StaffSession
    ) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        now = self.now()
        waiting = [
            {**self._row(said, entry.chat, entry.waited), "place": entry.place}
            for entry in await desk.queue(self.backend.uow(), now)
        ]
        mine = [
            self._row(said, chat, now - (chat.claimed_at or chat.queued_at))
            for chat in await desk.chats_of(self.backend.uow(), signed_in.account.id)
        ]
        return waiting, mine

    async def queue(
        self,
        request: web.Request,
        *,
        error: str = "",
        status: int = 200,
        unsent: str = "",
    ) -> web.StreamResponse:
        signed_in = require(request, staff.DESK_ROLES)
        said = words(request)
        waiting, mine = await self._lists(said, signed_in)
        callbacks = await desk.callbacks(self.backend.uow())
        if callbacks:  # the messages are the patients' words: a look is logged
            await desk.log_access(
                self.backend.uow(), operator(signed_in), what="callbacks", now=self.now()
            )
        done = request.query.get("done", "")
        return render(
            request,
            "desk_queue.html",
            status=status,
            title=said(C_("1414 desk")),
            waiting=waiting,
            mine=mine,
            callbacks=[
                {
                    "at": _local(c.created_at),
                    "channel": said(CHANNELS.get(c.channel, c.channel)),
                    "address": mask_phone(c.address) if c.channel == "sms" else c.address,
                    "language": said(LANGUAGE_NAMES.get(c.language, c.language)),
                    "body": masked(c.body),
                }
                for c in callbacks
            ],
            open_now=desk.is_open_at(self.now(), await desk.hours(self.backend.uow())),
            events_url=str(request.app.router["desk_events"].url_for()),
            done=said(DONE[done]) if done in DONE else "",
            error=error,
            unsent=unsent,
        )

    async def queue_events(self, request: web.Request) -> web.StreamResponse:
        """The queue and the operator's chats again whenever they change (server-sent events)."""
        signed_in = require(request, staff.DESK_ROLES)
        said = words(request)

        async def lists(listening: Listening | None) -> AsyncIterator[Event]:
            last: object = None
            async for _ in self._ticks(request, lambda e: e.kind in _QUEUE_KINDS, listening):
                waiting, mine = await self._lists(said, signed_in)
                if (waiting, mine) != last:
                    last = (waiting, mine)
                    yield Event("queue", {"waiting": waiting, "mine": mine})

        return await self._stream(request, lists)

    # --- claiming ------------------------------------------------------------------------

    async def claim(self, request: web.Request) -> web.StreamResponse:
        signed_in = require(request, staff.DESK_ROLES)
        said = words(request)
        chat_id = int(request.match_info["chat_id"])
        me = operator(signed_in)
        if await self.desk(request).actions.claim(chat_id, me):
            await self._audit(request, signed_in, "desk_claim", chat_id)
            raise web.HTTPSeeOther(request.app.router["desk_chat"].url_for(chat_id=str(chat_id)))
        try:
            chat = await desk.get(self.backend.uow(), chat_id)
        except DeskRefusal:
            return await self.queue(request, error=said(NO_SUCH_CHAT), status=404)
        if chat.state is DeskState.TAKEN and chat.operator_id == me.id:  # a double click
            raise web.HTTPSeeOther(request.app.router["desk_chat"].url_for(chat_id=str(chat_id)))
        await self._audit(request, signed_in, "desk_claim_refused", chat_id, chat.state.value)
        message = TAKEN if chat.state is DeskState.TAKEN else NOT_WAITING
        return await self.queue(request, error=said(message), status=409)

    # --- the conversation ----------------------------------------------------------------

    async def _chat(self, request: web.Request, signed_in: staff.StaffSession) -> DeskChat:
        """The chat of the path, when this staff member may look at it."""
        try:
            chat = await desk.get(self.backend.uow(), int(request.match_info["chat_id"]))
        except DeskRefusal:
            raise web.HTTPNotFound from None
        if signed_in.account.role is staff.Role.SUPERVISOR:
            return chat
        if chat.state is DeskState.TAKEN and chat.operator_id == signed_in.account.id:
            return chat
        raise NotYours

    async def _refuse(self, request: web.Request, signed_in: staff.StaffSession) -> web.Response:
        chat_id = request.match_info["chat_id"]
        await self._audit(request, signed_in, "desk_chat_refused", int(chat_id))
        log.warning("desk_chat_refused", login=signed_in.account.login, chat_id=chat_id)
        return self.console.problem(request, 403, NOT_YOURS)

    def _message(self, said: Words, message: DeskMessage, me: int) -> dict[str, Any]:
        if message.sender is Sender.PATIENT:
            who = said(C_("Patient"))
        elif message.sender is Sender.OPERATOR:
            who = said(C_("You")) if message.operator_id == me else said(C_("1414 operator"))
        else:
            who = said(C_("System"))
        body = message.body
        if message.sender is Sender.SYSTEM:
            body = said(SYSTEM_KINDS.get(message.kind, C_("System")))
        failed = message.delivery is desk.Delivery.FAILED
        return {
            "id": message.id,
            "sender": message.sender.value,
            "who": who,
            "at": _local(message.at),
            "body": body,
            "failed": said(C_("not delivered")) if failed else "",
        }

    async def chat(
        self,
        request: web.Request,
        *,
        error: str = "",
        status: int = 200,
        typed: str = "",
    ) -> web.StreamResponse:
        signed_in = require(request, staff.DESK_ROLES)
        said = words(request)
        try:
            chat = await self._chat(request, signed_in)
        except NotYours:
            return await self._refuse(request, signed_in)
        me = operator(signed_in)
        context = await desk.context(self.backend.uow(), chat.id, me, self.now())
        own = chat.state is DeskState.TAKEN and chat.operator_id == me.id
        patient_words = Words(self.console.translator, chat.language)
        prefix, suffix = self._prefix(request, chat.language)
        apps = [
            {
                "number": a.number,
                "service": said(SERVICES[a.service]),
                "status": said(STATUSES[a.status]),
                "for_name": a.for_name or "",
                "deadline": _local(a.pending_deadline) if a.pending_deadline else "",
                "appointment": _local(a.appointment_at) if a.appointment_at else "",
                "refusal": said(GROUNDS[a.refusal]) if a.refusal and a.refusal in GROUNDS else "",
            }
            for a in context.applications
        ]
        entered = [
            (str(key), masked(value))
            for key, value in context.entered.items()
            if not str(key).startswith("desk_")
        ]
        transcript = [self._message(said, m, me.id) for m in context.transcript]
        return render(
            request,
            "desk_chat.html",
            status=status,
            title=said(C_("Chat {number}"), number=chat.id),
            chat=self._row(said, chat, self.now() - chat.queued_at),
            state=chat.state.value,
            holder=chat.operator_name or "",
            own=own,
            masked_iin=context.masked_iin or "",
            masked_phone=context.masked_phone or "",
            step=context.step or "",
            entered=entered,
            applications=apps,
            transcript=transcript,
            last_id=max((m["id"] for m in transcript), default=0),
            events_url=str(request.app.router["desk_chat_events"].url_for(chat_id=str(chat.id))),
            quick=[patient_words(text) for text in QUICK_REPLIES],
            close_reasons=[(code, said(label)) for code, label in CLOSE_REASONS.items()],
            chosen_reason=form(request).get("reason"),
            max_reply=MAX_REPLY.get(chat.channel, MAX_REPLY["sms"]),
            is_sms=chat.channel == "sms",
            prefix=prefix,
            suffix=suffix,
            gsm_basic=json.dumps(sorted(ord(c) for c in segments.GSM7_BASIC)),
            gsm_extension=json.dumps(sorted(ord(c) for c in segments.GSM7_EXTENSION)),
            counter=said(
                C_("The patient gets {chars} characters: {segments} SMS ({encoding})."),
                chars="{chars}",
                segments="{segments}",
                encoding="{encoding}",
            ),
            warning=said(
                C_(
                    "Over {limit} SMS segments: the reply reaches the patient in several parts. "
                    "Shorten it if you can."
                ),
                limit=SMS_WARN_SEGMENTS,
            ),
            error=error,
            typed=typed,
        )

    def _prefix(self, request: web.Request, language: str) -> tuple[str, str]:
        """What the patient's channel puts before and after the operator's words («Оператор
        1414: …» in the patient's language): the counter counts the whole message."""
        marker = "\ue000"
        whole = self.desk(request).relay.translator.render(texts.operator_says(marker), language)
        before, _, after = whole.partition(marker)
        return before, after

    async def chat_events(self, request: web.Request) -> web.StreamResponse:
        """New messages of the transcript as they come; `state` when the chat leaves this
        operator (then the stream ends)."""
        signed_in = require(request, staff.DESK_ROLES)
        said = words(request)
        try:
            chat = await self._chat(request, signed_in)
        except NotYours:
            return await self._refuse(request, signed_in)
        me = operator(signed_in)
        try:
            after = int(request.query.get("after", "0"))
        except ValueError:
            after = 0
        await desk.log_access(
            self.backend.uow(),
            me,
            what="transcript_live",
            now=self.now(),
            chat_id=chat.id,
            patient_id=chat.patient_id,
        )

        async def fresh(listening: Listening | None) -> AsyncIterator[Event]:
            seen = after
            async for _ in self._ticks(request, lambda e: e.chat_id == chat.id, listening):
                for message in await desk.transcript(self.backend.uow(), chat.id):
                    if message.id > seen:
                        seen = message.id
                        yield Event("message", self._message(said, message, me.id))
                now = await desk.get(self.backend.uow(), chat.id)
                if now.state is not chat.state or now.operator_id != chat.operator_id:
                    yield Event(
                        "state",
                        {"state": now.state.value, "notice": said(MOVED)},
                    )
                    return

        return await self._stream(request, fresh)

    # --- actions on a chat -----------------------------------------------------------------

    async def reply(self, request: web.Request) -> web.StreamResponse:
        signed_in = require(request, staff.DESK_ROLES)
        said = words(request)
        chat_id = int(request.match_info["chat_id"])
        raw = form(request).get("text")
        text = clean_text(raw, keep_layout=True).strip()
        try:
            chat = await self._chat(request, signed_in)
        except (NotYours, web.HTTPNotFound):
            return await self.queue(
                request, error=said(NO_LONGER_YOURS), status=409, unsent=raw[:5000]
            )
        limit = MAX_REPLY.get(chat.channel, MAX_REPLY["sms"])
        if not text:
            return await self.chat(request, error=said(EMPTY_REPLY), status=422, typed=raw)
        if len(text) > limit:
            return await self.chat(
                request,
                error=said(LONG_REPLY, limit=limit, length=len(text)),
                status=422,
                typed=raw[:5000],
            )
        try:
            await self.desk(request).actions.reply(chat_id, operator(signed_in), text)
        except DeskRefusal:
            return await self.queue(
                request, error=said(NO_LONGER_YOURS), status=409, unsent=raw[:5000]
            )
        url = request.app.router["desk_chat"].url_for(chat_id=str(chat_id))
        raise web.HTTPSeeOther(f"{url}#reply")

    async def hand_back(self, request: web.Request) -> web.StreamResponse:
        signed_in = require(request, staff.DESK_ROLES)
        said = words(request)
        chat_id = int(request.match_info["chat_id"])
        try:
            await self.desk(request).actions.hand_back(chat_id, operator(signed_in))
        except DeskRefusal:
            return await self.queue(request, error=said(NO_LONGER_YOURS), status=409)
        await self._audit(request, signed_in, "desk_hand_back", chat_id)
        raise web.HTTPSeeOther(
            request.app.router["desk_queue"].url_for().with_query(done="handed_back")
        )

    async def close(self, request: web.Request) -> web.StreamResponse:
        signed_in = require(request, staff.DESK_ROLES)
        said = words(request)
        chat_id = int(request.match_info["chat_id"])
        reason = form(request).get("reason")
        if reason not in CLOSE_REASONS:
            try:
                return await self.chat(request, error=said(NO_CLOSE_REASON), status=422)
            except web.HTTPNotFound:
                return await self.queue(request, error=said(NO_SUCH_CHAT), status=404)
        try:
            await self.desk(request).actions.close(chat_id, operator(signed_in), reason)
        except DeskRefusal:
            return await self.queue(request, error=said(NO_LONGER_YOURS), status=409)
        await self._audit(request, signed_in, "desk_close", chat_id, reason)
        raise web.HTTPSeeOther(
            request.app.router["desk_queue"].url_for().with_query(done="closed")
        )

    # --- plumbing --------------------------------------------------------------------------

    async def _audit(
        self,
        request: web.Request,
        signed_in: staff.StaffSession,
        action: str,
        chat_id: int,
        detail: str = "",
    ) -> None:
        await staff.audit(
            self.backend.uow(),
            signed_in.account,
            action,
            f"chat {chat_id}",
            now=self.now(),
            detail=detail,
            remote=request.remote,
        )

    def _alive(self, request: web.Request) -> Callable[[], Any]:
        token = request.cookies.get(self.console.cookie_name, "")

        async def alive() -> bool:
            still = await staff.session(
                self.backend.uow(), token, now=self.now(), policy=self.console.policy, touch=False
            )
            return still is not None

        return alive

    async def _listen(self, request: web.Request) -> Listening | None:
        """The live feed, subscribed before the stream's first look at the database (so that
        nothing stored in between waits for the poll); None when the feed is down."""
        try:
            return await self.desk(request).feed.listen()
        except Exception:  # the feed is best effort: the poll goes on alone
            log.warning("desk feed subscription failed", exc_info=True)
            return None

    async def _stream(
        self,
        request: web.Request,
        events: Callable[[Listening | None], AsyncIterator[Event]],
    ) -> web.StreamResponse:
        listening = await self._listen(request)
        try:
            return await event_stream(request, events(listening), alive=self._alive(request))
        finally:
            if listening is not None:
                await listening.aclose()

    async def _ticks(
        self,
        request: web.Request,
        matches: Callable[[DeskEvent], bool],
        listening: Listening | None,
    ) -> AsyncIterator[None]:
        """Once at once, then whenever the live feed has a matching event, and at least every
        poll interval besides (the feed is best effort; the database is the truth)."""
        poll = self._poll(request)
        pending: asyncio.Future[DeskEvent] | None = None
        try:
            yield None
            while True:
                if listening is None:
                    await asyncio.sleep(poll)
                    yield None
                    continue
                if pending is None:
                    pending = asyncio.ensure_future(anext(listening))
                done, _ = await asyncio.wait({pending}, timeout=poll)
                if done:
                    try:
                        event = pending.result()
                    except Exception:  # the feed failed: the poll goes on alone
                        log.warning("desk feed subscription ended", exc_info=True)
                        pending = listening = None
                        continue
                    pending = None
                    if not matches(event):
                        continue
                    await asyncio.sleep(0.05)  # the events of one action come together
                yield None
        finally:
            if pending is not None:
                pending.cancel()
                with contextlib.suppress(BaseException):
                    await pending
