"""The gettext catalogs: complete in Kazakh and Russian, in step with the code, placeholders kept.

`pybabel compile` succeeds on untranslated catalogs, so these checks are what keeps a screen
from showing English ids to a Kazakh or Russian patient.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog, Message
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parent.parent
LOCALES = ROOT / "locales"
_PLACEHOLDER = re.compile(r"\{(\w*)[^{}]*\}")


def _catalog(path: Path, locale: str) -> Catalog:
    with path.open("rb") as fp:
        return read_po(fp, locale=locale)


def _messages(catalog: Catalog) -> list[Message]:
    return [m for m in catalog if m.id]


def _key(message: Message) -> tuple[str | None, str]:
    msgid = message.id if isinstance(message.id, str) else message.id[0]
    return (message.context, msgid)


# The same markers as `make update-locales` (Makefile EXTRACT) and babel.cfg.
KEYWORDS: dict[str, object] = {"T": None, "N_": None, "_": None, "pgettext": ((1, "c"), 2)}
METHOD_MAP = [(f"{package}/**.py", "python") for package in ("backend", "dialogs", "otp", "bot")]


@pytest.fixture(scope="module")
def extracted() -> set[tuple[str | None, str]]:
    found = extract_from_dir(str(ROOT), METHOD_MAP, keywords=KEYWORDS)  # type: ignore[arg-type]
    keys = set()
    for _filename, _lineno, message, _comments, context in found:
        msgid = message if isinstance(message, str) else message[0]
        keys.add((context, msgid))
    return keys


@pytest.mark.parametrize("locale", ["kk", "ru", "en"])
def test_the_catalog_holds_exactly_the_messages_the_code_uses(
    locale: str, extracted: set[tuple[str | None, str]]
) -> None:
    catalog = _catalog(LOCALES / locale / "LC_MESSAGES" / "messages.po", locale)

    in_code = extracted
    in_catalog = {_key(m) for m in _messages(catalog)}

    assert sorted(in_code - in_catalog, key=str) == [], "run `make update-locales`"
    # Variants ("sms" context) live only in the catalogs; anything else stale is reported.
    stale = {k for k in in_catalog - in_code if k[0] is None}
    assert sorted(stale, key=str) == [], "run `make update-locales`"


@pytest.mark.parametrize("locale", ["kk", "ru"])
def test_every_message_is_translated_and_not_fuzzy(locale: str) -> None:
    catalog = _catalog(LOCALES / locale / "LC_MESSAGES" / "messages.po", locale)

    missing = [
        _key(m)
        for m in _messages(catalog)
        if m.fuzzy or not all(m.string if isinstance(m.string, tuple) else [m.string])
    ]

    assert missing == []


@pytest.mark.parametrize("locale", ["kk", "ru", "en"])
def test_translations_keep_the_placeholders(locale: str) -> None:
    catalog = _catalog(LOCALES / locale / "LC_MESSAGES" / "messages.po", locale)

    broken = []
    for message in _messages(catalog):
        source = message.id if isinstance(message.id, str) else message.id[0]
        strings = message.string
        target = strings if isinstance(strings, str) else (strings or [""])[0]
        if not target:
            continue
        wanted, used = set(_PLACEHOLDER.findall(source)), set(_PLACEHOLDER.findall(target))
        # A short SMS variant may leave a parameter out; nothing may name an unknown one.
        if used != wanted and (message.context != "sms" or not used <= wanted):
            broken.append((source, target))

    assert broken == []
