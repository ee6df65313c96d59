"""The Clinic API (issue 11): clinic information systems act on their clinic's applications.

A JSON API under /api/clinic/v1, behind per-clinic API keys (`dariger clinic-key add CLINIC`),
described by the OpenAPI document at /api/clinic/v1/openapi.json and by docs/clinic-api.md.
"""

from __future__ import annotations

from aiohttp import web

from bot.clinic_api.api import OPENAPI_PATH, PREFIX, ROUTES, application
from bot.runtime import Runtime

__all__ = ["OPENAPI_PATH", "PREFIX", "ROUTES", "install"]


def install(app: web.Application, runtime: Runtime) -> None:
    """Mount the API. It is always on: without a key nobody gets past its 401."""
    app.add_subapp(PREFIX, application(runtime.backend))
