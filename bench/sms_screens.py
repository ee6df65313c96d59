"""Every screen of every dialog, found by walking the engine (for the SMS segment budget).

The walk knows no journey: from the main menu it takes every action and navigation option of
each screen, a couple of its items, a good and a bad answer where the screen asks for input, and
records every distinct screen it meets (a state with its notice, error and body). Each new state
is expanded once; to expand it the walk replays the path that led there from the main menu.
Signing out is left out (it would end the walk); its screen is met all the same.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from bot.sms.render import MAX_SEGMENTS, Rendering
from bot.sms.segments import segments
from dialogs.engine.engine import Engine
from dialogs.engine.events import Chose, Command, Event, Typed
from dialogs.engine.screen import InputKind, OptionRole, Screen
from dialogs.engine.text import Text

Typist = Callable[[Screen], Sequence[str]]
SIGN_OUT = frozenset({"signout", "signout.all"})

# The SMS budget (issue 5): one reply of at most MAX_SEGMENTS per screen, unless the screen is a
# list: then each page may take LIST_PAGE_SEGMENTS and the list several replies ("9 more").
LIST_PAGE_SEGMENTS = 3
# States whose body itself is a list of records of unbounded length.
LIST_STATES = frozenset(
    {
        "apps.list",  # one line per application (the dialog pages them by 6)
        "apps.details",  # the status history: one line per change of status
    }
)


def is_list(rendering: Rendering) -> bool:
    """The screen carries list pages: the renderer paged its options (more than one page while
    its notice, error and body fitted the first: not `overflow`), or its state is a list."""
    paged_options = len(rendering.pages) > 1 and not rendering.overflow
    return paged_options or rendering.state in LIST_STATES


def over_budget(rendering: Rendering) -> int | None:
    """None when the rendered screen keeps the SMS budget; else its total segment count."""
    counts = [segments(page.text) for page in rendering.pages]
    if is_list(rendering):
        fits = all(count <= LIST_PAGE_SEGMENTS for count in counts)
    else:
        fits = len(counts) == 1 and counts[0] <= MAX_SEGMENTS
    return None if fits else sum(counts)


@dataclass(frozen=True)
class Found:
    screen: Screen
    path: tuple[Event, ...]


def variant(screen: Screen) -> str:
    """What makes two screens read differently, besides the values in them."""

    def ids(item: Text | None) -> str:
        return "" if item is None else item.msgid

    body = "|".join(t.msgid for t in screen.body)
    roles = ",".join(o.role.value for o in screen.options)
    return f"{screen.state}#{ids(screen.notice)}#{ids(screen.error)}#{body}#{roles}"


def _actions(screen: Screen, typed: Typist, items: int, skip: Iterable[str]) -> list[Event]:
    events: list[Event] = []
    taken = 0
    for option in screen.options:
        if option.id in skip:
            continue
        if option.role is OptionRole.ITEM:
            if taken >= items:
                continue
            taken += 1
        events.append(Chose(option.id))
    if screen.expects is not InputKind.NONE:
        events.extend(Typed(text) for text in typed(screen))
    return events


async def crawl(
    engine: Engine,
    user_id: str,
    typed: Typist,
    *,
    channel: str = "sms",
    items: int = 12,
    skip: Iterable[str] = SIGN_OUT,
    before_replay: Callable[[], None] | None = None,
    max_calls: int = 4000,
) -> list[Found]:
    """The distinct screens reachable from the main menu of (channel, user_id)."""
    found: dict[str, Found] = {}
    expanded: set[str] = set()
    calls = 0
    skip = frozenset(skip)

    async def replay(path: tuple[Event, ...]) -> Screen:
        nonlocal calls
        if before_replay is not None:
            before_replay()
        screen = await engine.handle(channel, user_id, Command("start"))
        calls += 1
        for event in path:
            screen = await engine.handle(channel, user_id, event)
            calls += 1
        return screen

    def record(screen: Screen, path: tuple[Event, ...]) -> None:
        found.setdefault(variant(screen), Found(screen, path))

    # Depth first, the options in their order: a flow is walked to its end (book, confirm)
    # before a later option (cancel) changes the world under it.
    stack: list[tuple[Event, ...]] = [()]
    while stack and calls < max_calls:
        path = stack.pop()
        screen = await replay(path)
        record(screen, path)
        if screen.state in expanded:
            continue
        expanded.add(screen.state)
        children: list[tuple[Event, ...]] = []
        for event in _actions(screen, typed, items, skip):
            if calls >= max_calls:
                break
            here = await replay(path)
            if variant(here) != variant(screen):  # the world changed under the path
                record(here, path)
                break
            after = await engine.handle(channel, user_id, event)
            calls += 1
            record(after, (*path, event))
            if after.state not in expanded:
                children.append((*path, event))
        stack.extend(reversed(children))
    return list(found.values())
