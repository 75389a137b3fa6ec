"""The public transparency report: ``GET /v1/transparency`` (JSON), ``/v1/transparency.csv``
(the same figures for a spreadsheet) and ``/v1/transparency/certificate.pem`` (the certificate
that videos' credentials are checked against).

No sign-in: the report is for the public, and says nothing about any one person (see
trust/transparency.py). When the operator turns it off (``OPENREEL_TRANSPARENCY__ENABLED``)
every route here is a 404, as if it did not exist. Figures for one period are computed once a
minute at most (see :meth:`TransparencyService.figures`), so anyone calling it in a loop costs
the database a few aggregates a minute.
"""

from __future__ import annotations

import csv
import io
import time
from typing import Any

from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse, Response
from starlette.concurrency import run_in_threadpool

from openreel.api.deps import ApiServices, ServicesDep
from openreel.api.routes.models import model_card
from openreel.errors import InvalidRequestError, NotFoundError
from openreel.trust.transparency import Period, TransparencyService

__all__ = ["router"]

router = APIRouter(prefix="/v1", tags=["transparency"])

_FORMULA = ("=", "+", "-", "@", "\t", "\r")
"""First characters a spreadsheet reads as a formula: such cells get a leading quote."""

_SINCE = Query(None, description="Start: a date (2026-11-01, UTC), a date-time or unix seconds.")
_UNTIL = Query(None, description="End (a date includes that day); default: now.")
_DAYS = Query(None, description="Days back from until (instead of since); default 30.")


def _service(services: ApiServices) -> TransparencyService:
    if services.transparency is None:
        raise NotFoundError("the transparency report is turned off on this server")
    return services.transparency


def _report(services: ApiServices, service: TransparencyService, period: Period) -> dict[str, Any]:
    registry = services.registry
    models = [
        model_card(registry, e.model, e.backend).model_dump(mode="json") for e in registry.models()
    ]
    return {
        "object": "transparency.report",
        **service.figures(period),
        "models": models,
        "policy": service.policy(),
    }


def _csv(service: TransparencyService, period: Period) -> Response:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(("section", "name", "detail", "value"))
    for row in service.csv_rows(service.figures(period)):
        writer.writerow([f"'{cell}" if cell.startswith(_FORMULA) else cell for cell in row])
    name = f"openreel-transparency-{_day(period.since)}-{_day(period.until)}.csv"
    return Response(
        buffer.getvalue(),
        media_type="text/csv; charset=utf-8",
        headers={"content-disposition": f'attachment; filename="{name}"'},
    )


def _day(ts: float) -> str:
    return time.strftime("%Y%m%d", time.gmtime(ts))


@router.get("/transparency", summary="The public transparency report")
async def transparency(
    services: ServicesDep,
    since: str | None = _SINCE,
    until: str | None = _UNTIL,
    days: str | None = _DAYS,
    format: str = Query("json", description="json or csv."),
) -> Response:
    """For a period (the last 30 days by default): videos made per model and backend and their
    seconds, refusals per check and per moderation category, artists' opt-outs in force,
    tokens revoked automatically and by hand, public pauses with their reasons and provenance
    lookups answered, every count under the threshold shown as ``{"fewer_than": N}``; with
    the model cards and the policy in force. No sign-in needed."""
    service = _service(services)
    if format not in ("json", "csv"):
        raise InvalidRequestError.for_value("format", format, "must be json or csv")
    period = service.period(since, until, days)
    if format == "csv":
        return await run_in_threadpool(_csv, service, period)
    report = await run_in_threadpool(_report, services, service, period)
    return JSONResponse(report)


@router.get("/transparency.csv", summary="The transparency report's figures as CSV")
async def transparency_csv(
    services: ServicesDep,
    since: str | None = _SINCE,
    until: str | None = _UNTIL,
    days: str | None = _DAYS,
) -> Response:
    """The figures of ``GET /v1/transparency`` for the same period, one per row (section,
    name, detail, value), for people who publish reports; a hidden count reads "fewer than N"."""
    service = _service(services)
    period = service.period(since, until, days)
    return await run_in_threadpool(_csv, service, period)


@router.get("/transparency/certificate.pem", summary="The provenance signer's certificate")
async def certificate(services: ServicesDep) -> Response:
    """The certificate this server's video credentials are trusted by (its fingerprint is in
    the report's policy), for checking a video offline with any C2PA tool; 404 when the
    server does not sign videos."""
    pem = _service(services).certificate()
    if pem is None:
        raise NotFoundError("this server does not sign its videos (provenance is off)")
    return Response(
        pem,
        media_type="application/x-pem-file",
        headers={"content-disposition": 'attachment; filename="openreel-signer-ca.pem"'},
    )
