"""Translatable text: a gettext message id and parameters, never a formatted string.

Dialogs write `T("Your appointment: {when}", when=slot_start)`; the channel's renderer translates
the id into the patient's language, formats dates in the clinic's zone and only then fills in
the parameters (aiogram's own i18n rule, applied outside aiogram). `pybabel extract -k T`
collects the ids.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType


@dataclass(frozen=True, slots=True)
class Localized:
    """A name the register holds in three languages (a clinic, a specialty)."""

    kk: str
    ru: str
    en: str
    # A common noun (a specialty): written in lower case inside a sentence («Врач: Оспанова
    # С. Б., кардиолог»), as it is in the register at the start of one (issue 15).
    common: bool = False

    def pick(self, language: str) -> str:
        return {"ru": self.ru, "en": self.en}.get(language, self.kk)


def common_noun(name: Localized) -> Localized:
    """`name` marked as a common noun: lower-cased by the renderer inside a sentence."""
    return Localized(name.kk, name.ru, name.en, common=True)


@dataclass(frozen=True, slots=True)
class Verbatim:
    """Text shown as it is, untranslated: a name, an address, an operator's reply.

    `echo`: the patient's own typing shown back to them (an address, a reason). A channel with
    a tight budget may shorten an echo (the SMS renderer does, when the screen would not fit
    otherwise); anything else is always shown whole."""

    text: str
    echo: bool = False


@dataclass(frozen=True, slots=True)
class Text:
    msgid: str
    params: Mapping[str, object] = field(default_factory=lambda: MappingProxyType({}))
    # Issue 15: a line a channel that pays per character (SMS) leaves out: something the
    # patient was shown a step before (the clinic, named at the specialty step; the details
    # of the confirmation, on the result screen) or a heading the options already say.
    omissible: bool = False

    def __post_init__(self) -> None:
        for name, value in self.params.items():
            if not isinstance(
                value, str | int | Text | Localized | Verbatim | dt.date | dt.datetime | dt.time
            ):
                raise TypeError(f"parameter {name!r} of {self.msgid!r}: {type(value).__name__}")


def T(msgid: str, /, **params: object) -> Text:
    return Text(msgid, MappingProxyType(dict(params)))


def omissible(text: Text) -> Text:
    """`text`, marked as a line SMS leaves out (see `Text.omissible`)."""
    return Text(text.msgid, text.params, omissible=True)
