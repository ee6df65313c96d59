"""A process's cold start with its background loops (issue 16): how long the event loop stalls.

    .venv/bin/python -m bench.cold_start [--db postgresql|sqlite] [--runs 3]

The demo city is loaded into a fresh database and its free slots are deleted, so the slot
top-up has the whole booking horizon to create, as on a first start. Each run starts a fresh
Python process (nothing imported or compiled yet) that creates the production app, starts it
and, for 3 s, measures the event loop's stalls (a 5 ms ticker) and asks /readyz every 100 ms.
The baseline is the same process with every background loop turned off, measured in the same
run; the figures are the worst stall and the slowest readiness answer, each run's and the
median of the runs.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import subprocess
import sys
import time

from sqlalchemy import delete, select

from backend.adapters import orm
from backend.bootstrap import bootstrap
from backend.services.demo import load_demo_data
from bench.capacity import database
from bot.logs import configure_logging

SECONDS = 3.0
TICK = 0.005


async def _child(url: str, redis_url: str, loops: bool) -> dict[str, float]:
    from aiohttp.test_utils import TestClient, TestServer  # noqa: PLC0415 - cold in the child

    from bot.app import SLOT_TOP_UP_KEY, create_app  # noqa: PLC0415
    from bot.config import Settings  # noqa: PLC0415
    from bot.desk.channel import DESK_LOOP_KEY  # noqa: PLC0415
    from bot.notify.channel import NOTIFY_ENABLED_KEY  # noqa: PLC0415
    from bot.sms.channel import SMS_WORKER_KEY  # noqa: PLC0415
    from bot.verify import STATEMENTS_ENABLED_KEY  # noqa: PLC0415

    app = create_app(
        Settings(_env_file=None, database_url=url, redis_url=redis_url), bootstrap(url)
    )
    for key in (SLOT_TOP_UP_KEY, SMS_WORKER_KEY, NOTIFY_ENABLED_KEY, DESK_LOOP_KEY):
        app[key] = loops
    app[STATEMENTS_ENABLED_KEY] = loops
    stalls: list[float] = []
    probes: list[float] = []
    client = TestClient(TestServer(app))
    await client.start_server()
    started = time.perf_counter()

    async def ticker() -> None:
        last = time.perf_counter()
        while time.perf_counter() - started < SECONDS:
            await asyncio.sleep(TICK)
            now = time.perf_counter()
            stalls.append(now - last - TICK)
            last = now

    async def prober() -> None:
        while time.perf_counter() - started < SECONDS:
            asked = time.perf_counter()
            response = await client.get("/readyz")
            if response.status != 200:
                raise SystemExit(f"/readyz answered {response.status}")
            probes.append(time.perf_counter() - asked)
            await asyncio.sleep(0.1)

    await asyncio.gather(ticker(), prober())
    await client.close()
    return {"stall": max(stalls), "probe": max(probes)}


def _run_child(url: str, redis_url: str, loops: bool) -> dict[str, float]:
    args = [sys.executable, "-m", "bench.cold_start", "--child", url, redis_url or "-"]
    done = subprocess.run(  # noqa: S603 - our own module
        [*args, "on" if loops else "off"], capture_output=True, text=True, check=True
    )
    result: dict[str, float] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


async def _free_slots_deleted(url: str, *, load: bool) -> None:
    backend = bootstrap(url)
    try:
        if load:
            await load_demo_data(backend)
        async with backend.uow() as uow:
            booked = select(orm.appointments.c.slot_id)
            await uow.session.execute(delete(orm.slots).where(orm.slots.c.id.not_in(booked)))
            await uow.commit()
    finally:
        await backend.close()


async def _cold_database(db: str, runs: int) -> None:
    async with database(db) as (url, redis_url):
        figures: dict[bool, list[dict[str, float]]] = {True: [], False: []}
        await _free_slots_deleted(url, load=True)
        for _ in range(runs):
            for loops in (False, True):
                await _free_slots_deleted(url, load=False)  # the whole horizon to create again
                figures[loops].append(await asyncio.to_thread(_run_child, url, redis_url, loops))
        for name in ("stall", "probe"):
            off = statistics.median(f[name] for f in figures[False])
            on = statistics.median(f[name] for f in figures[True])
            each = ", ".join(f"{f[name] * 1000:.0f}" for f in figures[True])
            what = "worst event-loop stall" if name == "stall" else "slowest /readyz"
            print(
                f"[{db}] {what}: {on * 1000:.0f} ms with the loops (runs: {each} ms), "
                f"{off * 1000:.0f} ms without (baseline), {on / off:.2f}×"
            )


def main() -> None:
    if len(sys.argv) == 5 and sys.argv[1] == "--child":
        configure_logging("console", "WARNING")
        url, redis_url, loops = sys.argv[2], sys.argv[3], sys.argv[4] == "on"
        figures = asyncio.run(_child(url, "" if redis_url == "-" else redis_url, loops))
        print(json.dumps(figures))
        return
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", choices=("postgresql", "sqlite"), default="postgresql")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    configure_logging("console", "WARNING")
    asyncio.run(_cold_database(args.db, args.runs))


if __name__ == "__main__":
    main()
