"""Dialog steps (states) and the outcomes of handling an event in one."""

from __future__ import annotations

import datetime as dt
from collections.abc import Awaitable, Callable, Hashable, Sequence
from dataclasses import dataclass, field
from typing import TypeVar, cast

from backend.services.unit_of_work import UnitOfWork
from dialogs.engine.conversation import Conversation, JsonValue
from dialogs.engine.screen import Document, InputKind, Option
from dialogs.engine.text import T, Text
from dialogs.services import Services

R = TypeVar("R")


@dataclass
class Ctx:
    """Everything a step sees while it handles one event."""

    services: Services
    conv: Conversation
    now: dt.datetime
    patient_id: int | None
    language: str
    _memo: dict[Hashable, object] = field(default_factory=dict, repr=False)

    async def once(self, key: Hashable, load: Callable[[], Awaitable[R]]) -> R:
        """A read-only look-up done at most once per event (a handler and the next screen's
        view often need the same attachment, specialty list or doctors)."""
        if key not in self._memo:
            self._memo[key] = await load()
        return cast("R", self._memo[key])

    @property
    def data(self) -> dict[str, JsonValue]:
        return self.conv.data

    def uow(self) -> UnitOfWork:
        return self.services.backend.uow()

    def require_patient(self) -> int:
        if self.patient_id is None:  # the engine's guard makes this unreachable
            raise PermissionError("signed-in step without a patient")
        return self.patient_id

    def int_data(self, key: str) -> int | None:
        value = self.conv.data.get(key)
        return value if isinstance(value, int) and not isinstance(value, bool) else None

    def str_data(self, key: str) -> str | None:
        value = self.conv.data.get(key)
        return value if isinstance(value, str) else None


@dataclass(frozen=True)
class View:
    """What a step shows; the engine adds the navigation options and the counters."""

    body: Sequence[Text]
    options: Sequence[Option] = ()
    expects: InputKind = InputKind.NONE
    sensitive: bool = False
    columns: int = 1
    document: Document | None = None


@dataclass(frozen=True)
class Goto:
    state: str
    notice: Text | None = None
    reset: bool = False  # forget the way back (after a finished request)


@dataclass(frozen=True)
class Back:
    notice: Text | None = None


@dataclass(frozen=True)
class Stay:
    notice: Text | None = None


@dataclass(frozen=True)
class Retry:
    """Bad input: the same screen again with a hint; it counts towards the three strikes."""

    error: Text


Outcome = Goto | Back | Stay | Retry

CHOOSE_AN_OPTION = T("Please choose one of the options below.")


@dataclass
class Step:
    """A state. Subclasses override `view` and the handlers they need."""

    name: str
    requires_patient: bool = field(default=True, kw_only=True)

    async def view(self, ctx: Ctx) -> View:
        raise NotImplementedError

    async def on_option(self, ctx: Ctx, option_id: str) -> Outcome:
        return Retry(CHOOSE_AN_OPTION)

    async def on_text(self, ctx: Ctx, text: str) -> Outcome:
        return Retry(CHOOSE_AN_OPTION)

    async def on_contact(self, ctx: Ctx, phone: str, same_user: bool) -> Outcome:
        return Retry(CHOOSE_AN_OPTION)
