"""The gettext catalogs: complete in Kazakh and Russian, in step with the code, placeholders kept.

`pybabel compile` succeeds on untranslated catalogs, so these checks are what keeps a screen
from showing English ids to a Kazakh or Russian patient, or to a 1414 operator. Both domains
are checked the same way: `messages` (patients) and `console` (the operator console).
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


# The same markers as `make update-locales` (Makefile EXTRACT and EXTRACT_CONSOLE, babel.cfg).
KEYWORDS: dict[str, object] = {"T": None, "N_": None, "_": None, "pgettext": ((1, "c"), 2)}
METHOD_MAP = [(f"{package}/**.py", "python") for package in ("backend", "dialogs", "otp", "bot")]
CONSOLE_KEYWORDS: dict[str, object] = {"C_": None}
CONSOLE_DIR = ROOT / "bot" / "operator"
# babel-console.cfg: the console's Python and its Jinja2 templates.
CONSOLE_MAP = [("**.py", "python"), ("templates/**.html", "jinja2")]
DOMAINS = ("messages", "console")
_CONSOLE_MARKER = re.compile(r"\bC_\(")

Key = tuple[str | None, str]


def _extract(directory: Path, method_map: list[tuple[str, str]], keywords: object) -> list[Key]:
    found = extract_from_dir(str(directory), method_map, keywords=keywords)  # type: ignore[arg-type]
    keys = []
    for _filename, _lineno, message, _comments, context in found:
        msgid = message if isinstance(message, str) else message[0]
        keys.append((context, msgid))
    return keys


@pytest.fixture(scope="module")
def extracted() -> dict[str, set[Key]]:
    """The ids each domain's code uses."""
    return {
        "messages": set(_extract(ROOT, METHOD_MAP, KEYWORDS)),
        "console": set(_extract(CONSOLE_DIR, CONSOLE_MAP, CONSOLE_KEYWORDS)),
    }


def _po(domain: str, locale: str) -> Path:
    return LOCALES / locale / "LC_MESSAGES" / f"{domain}.po"


@pytest.mark.parametrize("domain", DOMAINS)
@pytest.mark.parametrize("locale", ["kk", "ru", "en"])
def test_the_catalog_holds_exactly_the_messages_the_code_uses(
    domain: str, locale: str, extracted: dict[str, set[Key]]
) -> None:
    catalog = _catalog(_po(domain, locale), locale)

    in_code = extracted[domain]
    in_catalog = {_key(m) for m in _messages(catalog)}

    assert sorted(in_code - in_catalog, key=str) == [], "run `make update-locales`"
    # Variants ("sms" context) live only in the catalogs; anything else stale is reported.
    stale = {k for k in in_catalog - in_code if k[0] is None}
    assert sorted(stale, key=str) == [], "run `make update-locales`"


@pytest.mark.parametrize("domain", DOMAINS)
@pytest.mark.parametrize("locale", ["kk", "ru"])
def test_every_message_is_translated_and_not_fuzzy(domain: str, locale: str) -> None:
    catalog = _catalog(_po(domain, locale), locale)

    missing = [
        _key(m)
        for m in _messages(catalog)
        if m.fuzzy or not all(m.string if isinstance(m.string, tuple) else [m.string])
    ]

    assert missing == []


@pytest.mark.parametrize("domain", DOMAINS)
@pytest.mark.parametrize("locale", ["kk", "ru", "en"])
def test_translations_keep_the_placeholders(domain: str, locale: str) -> None:
    catalog = _catalog(_po(domain, locale), locale)

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


def test_the_console_template_is_in_step_with_the_code(extracted: dict[str, set[Key]]) -> None:
    template = _catalog(LOCALES / "console.pot", "en")

    assert {_key(m) for m in _messages(template)} == extracted["console"], "make update-locales"


def test_every_console_string_is_extracted() -> None:
    """Each `C_` call is seen by the extractor: one inside an f-string, with no literal, or
    outside bot/operator would never reach the catalog (and would show English)."""
    marked: dict[str, int] = {}
    for path in sorted((ROOT / "bot").rglob("*.py")):
        count = len(_CONSOLE_MARKER.findall(path.read_text(encoding="utf-8")))
        if count:
            marked[path.relative_to(ROOT).as_posix()] = count
    found = _extract(CONSOLE_DIR, [("**.py", "python")], CONSOLE_KEYWORDS)

    assert [path for path in marked if not path.startswith("bot/operator/")] == []
    definition = 1  # `def C_(` in bot/operator/language.py
    assert len(found) == sum(marked.values()) - definition
