"""Dependencies point one way: channels → dialogs → backend (DEVELOPERS.md, issue 4).

An AST walk over every module, independent of import-linter (which `make lint` also runs with the
contracts in pyproject.toml): imports inside functions count too.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FORBIDDEN = {
    "backend": {"bot", "dialogs", "otp", "aiogram", "twilio", "aiohttp", "redis"},
    "dialogs": {"bot", "aiogram", "twilio", "aiohttp"},
    "otp": {"bot", "dialogs", "aiogram", "twilio"},
}


def imported_packages(source: str) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module.split(".")[0])
    return found


def breaches(package: str) -> list[str]:
    result: list[str] = []
    for path in sorted((ROOT / package).rglob("*.py")):
        bad = imported_packages(path.read_text(encoding="utf-8")) & FORBIDDEN[package]
        result.extend(f"{path.relative_to(ROOT)} imports {name}" for name in sorted(bad))
    return result


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_layers_import_nothing_from_the_layers_above_or_channel_frameworks(package: str) -> None:
    assert breaches(package) == []


def test_the_check_sees_imports_at_any_depth() -> None:
    source = "import os\ndef f():\n    from aiogram.types import Message\n    import bot.app\n"

    assert imported_packages(source) == {"os", "aiogram", "bot"}
