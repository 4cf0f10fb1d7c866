"""Saved reports: the request, each finished stage, and the final report, as JSON rows.

A stage is written once it is complete (``plan``, ``gather``, ``section:N``,
``summary``, ``report``); a resumed run loads what exists and does only the
rest. The finished :class:`~.model.Report` carries its plan, sources and
every retrieved passage, so it can be reopened, re-exported or turned into
a deck long after the library has changed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TypeVar

from pydantic import BaseModel

from ..store import new_id, transaction
from ..store.connection import Connection
from .errors import UnknownReportError
from .model import Report, ReportRequest

__all__ = ["ReportStore", "SavedReport", "load_report"]

M = TypeVar("M", bound=BaseModel)


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="microseconds")


@dataclass(frozen=True, slots=True)
class SavedReport:
    id: str
    question: str
    status: str
    title: str | None
    model: str | None
    created_at: str
    updated_at: str


class ReportStore:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def create(self, request: ReportRequest, model: str) -> str:
        rid = new_id()
        now = _now()
        with transaction(self.conn):
            self.conn.execute(
                "INSERT INTO reports (id, question, request, status, model, created_at, "
                "updated_at) VALUES (?, ?, ?, 'running', ?, ?, ?)",
                (rid, request.question, request.model_dump_json(), model, now, now))
        return rid

    def find(self, ref: str) -> SavedReport:
        """A report by id or unique id prefix."""
        rows = self.conn.execute(
            "SELECT id, question, status, title, model, created_at, updated_at FROM reports "
            "WHERE id = ? OR id LIKE ? || '%' LIMIT 2", (ref, ref.strip().upper())).fetchall()
        if not rows or not ref.strip():
            raise UnknownReportError(f"no saved report {ref!r}",
                                     "see `qwenapp report --list` for ids")
        if len(rows) > 1 and rows[0]["id"] != ref:
            raise UnknownReportError(f"{ref!r} matches more than one report",
                                     "give more of the id")
        return SavedReport(*rows[0])

    def request(self, report_id: str) -> ReportRequest:
        row = self.conn.execute("SELECT request FROM reports WHERE id = ?",
                                (report_id,)).fetchone()
        if row is None:
            raise UnknownReportError(f"no saved report {report_id!r}")
        return ReportRequest.model_validate_json(row["request"])

    def recent(self, limit: int = 50) -> list[SavedReport]:
        rows = self.conn.execute(
            "SELECT id, question, status, title, model, created_at, updated_at FROM reports "
            "ORDER BY id DESC LIMIT ?", (limit,)).fetchall()
        return [SavedReport(*r) for r in rows]

    def save_stage(self, report_id: str, stage: str, data: BaseModel) -> None:
        with transaction(self.conn):
            self.conn.execute(
                "INSERT INTO report_stages (report_id, stage, data, created_at) "
                "VALUES (?, ?, ?, ?) ON CONFLICT (report_id, stage) DO UPDATE SET "
                "data = excluded.data, created_at = excluded.created_at",
                (report_id, stage, data.model_dump_json(), _now()))
            self.conn.execute("UPDATE reports SET updated_at = ? WHERE id = ?",
                              (_now(), report_id))

    def load_stage(self, report_id: str, stage: str, cls: type[M]) -> M | None:
        row = self.conn.execute("SELECT data FROM report_stages WHERE report_id = ? AND "
                                "stage = ?", (report_id, stage)).fetchone()
        return None if row is None else cls.model_validate_json(row["data"])

    def stages(self, report_id: str) -> list[str]:
        return [r[0] for r in self.conn.execute(
            "SELECT stage FROM report_stages WHERE report_id = ? ORDER BY created_at",
            (report_id,))]

    def set_status(self, report_id: str, status: str, title: str | None = None) -> None:
        with transaction(self.conn):
            self.conn.execute(
                "UPDATE reports SET status = ?, title = coalesce(?, title), updated_at = ? "
                "WHERE id = ?", (status, title, _now(), report_id))

    def finish(self, report: Report) -> None:
        self.save_stage(report.id, "report", report)
        self.set_status(report.id, "done", report.title)

    def delete(self, report_id: str) -> None:
        with transaction(self.conn):
            self.conn.execute("DELETE FROM reports WHERE id = ?", (report_id,))


def load_report(conn: Connection, report_id: str) -> Report:
    """A finished report, with its plan, sources and every retrieved passage.

    ``report_id`` may be a unique prefix. Raises
    :class:`~.errors.UnknownReportError` when there is no such finished report.
    """
    store = ReportStore(conn)
    saved = store.find(report_id)
    report = store.load_stage(saved.id, "report", Report)
    if report is None:
        raise UnknownReportError(
            f"report {saved.id} is not finished (status: {saved.status})",
            f"finish it with `qwenapp report --resume {saved.id}`")
    return report
