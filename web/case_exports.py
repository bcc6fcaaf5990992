"""The case list as a file: CSV (the csv module, UTF-8 with a byte order mark so that spreadsheets
read the accents) and XLSX (openpyxl, write-only). The columns of the page, headers in the user's
language, times in UTC. A text a spreadsheet would run as a formula stays a text."""

from __future__ import annotations

import csv
import io
from datetime import datetime, timezone

from flask import Response
from flask_babel import gettext as _
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell

from engine.work.case_list import CaseList, CaseRow

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def status_label(status: str) -> str:
    return {"running": _("Running"), "completed": _("Completed"), "cancelled": _("Cancelled")}.get(status, status)


def sla_label(sla: str) -> str:
    return {"on_time": _("On time"), "due_soon": _("Due soon"), "breached": _("Breached")}.get(sla, sla)


def _headers() -> list[str]:
    return [
        _("Reference"),
        _("Title"),
        _("Process"),
        _("Office"),
        _("Status"),
        _("SLA"),
        _("Current holder"),
        _("Next due (UTC)"),
        _("Started (UTC)"),
        _("Last change (UTC)"),
        _("Emergency"),
        _("Link"),
    ]


def _values(row: CaseRow, link: str) -> list:
    return [
        row.reference or "",
        row.title,
        row.process_name,
        row.office,
        status_label(row.status),
        sla_label(row.sla),
        row.holder or "",
        row.next_due_at,
        row.started_at,
        row.updated_at,
        row.emergency or "",
        link,
    ]


def _utc(value: datetime) -> datetime:
    return value.astimezone(timezone.utc).replace(tzinfo=None, microsecond=0)


def as_csv(found: CaseList, link) -> Response:
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(_headers())
    for row in found.rows:
        writer.writerow([_csv_cell(value) for value in _values(row, link(row.id))])
    return _download(("\ufeff" + out.getvalue()).encode("utf-8"), "text/csv; charset=utf-8", "csv")


def _csv_cell(value) -> str:
    if isinstance(value, datetime):
        return _utc(value).isoformat(sep=" ")
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_START) else text


def as_xlsx(found: CaseList, link) -> Response:
    book = Workbook(write_only=True)
    sheet = book.create_sheet(_("Cases"))
    sheet.append(_headers())
    for row in found.rows:
        sheet.append([_xlsx_cell(sheet, value) for value in _values(row, link(row.id))])
    out = io.BytesIO()
    book.save(out)
    return _download(out.getvalue(), XLSX_TYPE, "xlsx")


def _xlsx_cell(sheet, value):
    if isinstance(value, datetime):
        cell = WriteOnlyCell(sheet, value=_utc(value))
        cell.number_format = "yyyy-mm-dd hh:mm"
        return cell
    cell = WriteOnlyCell(sheet, value="" if value is None else str(value))
    cell.data_type = "s"  # never a formula, whatever the text starts with
    return cell


def _download(content: bytes, mimetype: str, extension: str) -> Response:
    stamp = datetime.now(timezone.utc).strftime("%Y-%m-%d")
    response = Response(content, mimetype=mimetype)
    response.headers["Content-Disposition"] = f'attachment; filename="cases-{stamp}.{extension}"'
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Cache-Control"] = "private, no-store"
    return response
