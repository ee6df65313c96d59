"""Translation and formatting for the channels: gettext catalogs in `locales/` (Babel).

Only channels translate. A dialog gives a `Text` (message id + parameters); the renderer asks
for it here in the patient's language: the id is translated first, dates and times are formatted
with Babel's CLDR data (in the zone the datetime carries: the clinic's), and only then are the
parameters filled in. Catalogs are compiled at install/build (`pybabel compile`); a checkout
without compiled `.mo` files compiles the `.po` files in memory, so nothing breaks.

Two gettext domains: `messages` (what patients read: dialogs, SMS) and `console` (what 1414
operators read: bot/operator). They are kept apart so that staff wording never lands in the
patient catalog and each has its own template (`locales/messages.pot`, `locales/console.pot`).
"""

from __future__ import annotations

import datetime as dt
import gettext
import io
import logging
from collections.abc import Mapping
from pathlib import Path
from string import Formatter
from typing import Literal

from babel import Locale
from babel.dates import format_date, format_datetime, format_time
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import NullTranslations, Translations

from dialogs.engine.text import Localized, Text, Verbatim

log = logging.getLogger(__name__)

LANGUAGES = ("kk", "ru", "en")
DOMAIN = "messages"  # the patient catalog
CONSOLE_DOMAIN = "console"  # the operator console's catalog (bot/operator)
DOMAINS = (DOMAIN, CONSOLE_DOMAIN)
LOCALES_DIR = Path(__file__).resolve().parent.parent / "locales"
Style = Literal["long", "short"]

# Issue 15: one order everywhere, the weekday first (the day buttons and every sentence).
_LONG = {"date": "EEEE, d MMMM", "datetime": "EEEE, d MMMM, HH:mm", "time": "HH:mm"}
# SMS: short and unambiguous ("25.11 09:20"), issue 5.
_SHORT = {"date": "dd.MM", "datetime": "dd.MM HH:mm", "time": "HH:mm"}


class _Defaults(dict[str, object]):
    def __missing__(self, key: str) -> str:
        return "{" + key + "}"  # a translation that names an unknown parameter still renders


def _load(locales_dir: Path, language: str, domain: str = DOMAIN) -> NullTranslations:
    mo = locales_dir / language / "LC_MESSAGES" / f"{domain}.mo"
    po = mo.with_suffix(".po")
    if mo.exists() and (not po.exists() or mo.stat().st_mtime >= po.stat().st_mtime):
        with mo.open("rb") as fp:
            return Translations(fp, domain=domain)
    if po.exists():
        with po.open("rb") as fp:
            catalog = read_po(fp, locale=language, domain=domain)
        buffer = io.BytesIO()
        write_mo(buffer, catalog, use_fuzzy=False)
        buffer.seek(0)
        return Translations(buffer, domain=domain)
    log.warning("no %s catalog for %s in %s: showing message ids", domain, language, locales_dir)
    return NullTranslations()


def _in_sentence(name: str, placeholder: str, template: str) -> str:
    """A common noun inside a sentence in lower case (issue 15: «…, кардиолог»); at the start
    of the text, and an abbreviation («ЛОР»), as written."""
    if template.lstrip().startswith(f"{{{placeholder}}}") or len(name) < 2:
        return name
    if not (name[0].isupper() and name[1].islower()):
        return name
    return name[0].lower() + name[1:]


class Translator:
    def __init__(self, locales_dir: Path = LOCALES_DIR, *, domain: str = DOMAIN) -> None:
        """The catalogs of one gettext domain (`messages` unless told) in every language."""
        if domain not in DOMAINS:
            raise ValueError(f"unknown gettext domain {domain!r}: expected one of {DOMAINS}")
        self.domain = domain
        self._catalogs: Mapping[str, gettext.NullTranslations] = {
            lang: _load(locales_dir, lang, domain) for lang in LANGUAGES
        }
        self._locales = {lang: Locale.parse(lang) for lang in LANGUAGES}

    def _catalog(self, language: str) -> gettext.NullTranslations:
        return self._catalogs.get(language) or self._catalogs["kk"]

    def gettext(self, language: str, msgid: str, *, context: str | None = None) -> str:
        """The translation; with a context (e.g. "sms"), that variant when the catalog has one."""
        catalog = self._catalog(language)
        if context is not None:
            variant = catalog.pgettext(context, msgid)
            if variant != msgid:
                return variant
        return catalog.gettext(msgid)

    def has_variant(self, language: str, msgid: str, context: str) -> bool:
        return self._catalog(language).pgettext(context, msgid) != msgid

    def render(
        self,
        item: Text | Verbatim,
        language: str,
        *,
        style: Style = "long",
        context: str | None = None,
    ) -> str:
        if isinstance(item, Verbatim):
            return item.text
        template = self.gettext(language, item.msgid, context=context)
        if not item.params:
            return template
        values = _Defaults(
            {
                k: _in_sentence(self._param(v, language, style, context), k, template)
                if isinstance(v, Localized) and v.common
                else self._param(v, language, style, context)
                for k, v in item.params.items()
            }
        )
        try:
            return Formatter().vformat(template, (), values)
        except (ValueError, IndexError, AttributeError):  # a broken translation: show the source
            log.error("bad translation of %r in %s", item.msgid, language)
            return Formatter().vformat(item.msgid, (), values)

    def _param(self, value: object, language: str, style: Style, context: str | None) -> str:
        formats = _LONG if style == "long" else _SHORT
        locale = self._locales.get(language, self._locales["kk"])
        if isinstance(value, Text | Verbatim):
            return self.render(value, language, style=style, context=context)
        if isinstance(value, Localized):
            return value.pick(language)
        if isinstance(value, dt.datetime):
            return format_datetime(value, formats["datetime"], tzinfo=value.tzinfo, locale=locale)
        if isinstance(value, dt.date):
            return format_date(value, formats["date"], locale=locale)
        if isinstance(value, dt.time):
            return format_time(value, formats["time"], locale=locale)
        return str(value)

    def otp_sms_text(
        self, message_id: str, params: Mapping[str, str | int], locale: str | None
    ) -> str:
        """`otp.service.SmsText`: the SMS carrying a code, in the patient's language."""
        return self.render(
            Text(message_id, dict(params)), locale or "kk", style="short", context="sms"
        )
