"""The versions of a report revised by asking (migration 0301), and what changed between two.

A revision is a report of its own; this module chains them. The chain is named by its
first report's id; version 1 is that report, recorded when it is first revised.

Whoever asks by any version's id works on the chain: :meth:`ReportVersions.current` is
the version a revision starts from (the newest, as the API's job and the deck CLI do), so
revising an old id never forks a second line of versions; :meth:`ReportVersions.restore`
is "go back": the old version's report becomes the newest version again (recorded as a
version of its own, so the one it replaced can be restored in turn).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime

from ..store import transaction
from ..store.connection import Connection
from .errors import UnknownReportError
from .model import Report, ReportSection
from .store import load_report

__all__ = ["ReportVersion", "ReportVersions", "SectionDiff", "compare_reports", "delete_chain"]


@dataclass(frozen=True, slots=True)
class ReportVersion:
    chain_id: str
    version: int
    report_id: str
    created_at: str
    request: str
    summary: str
    changed: list[int] = field(default_factory=list)


class ReportVersions:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def chain_of(self, report_id: str) -> str:
        """The chain ``report_id`` belongs to (its own id when it was never revised)."""
        r = self.conn.execute("SELECT chain_id FROM report_versions WHERE report_id = ? "
                              "ORDER BY version LIMIT 1", (report_id,)).fetchone()
        return str(r[0]) if r else report_id

    def history(self, report_id: str) -> list[ReportVersion]:
        chain = self.chain_of(report_id)
        rows = self.conn.execute("SELECT chain_id, version, report_id, created_at, request, "
                                 "summary, changed FROM report_versions WHERE chain_id = ? "
                                 "ORDER BY version", (chain,)).fetchall()
        return [ReportVersion(r[0], int(r[1]), r[2], r[3], r[4], r[5], json.loads(r[6]))
                for r in rows]

    def places(self) -> dict[str, tuple[str, int, int]]:
        """Every revised report: its id -> (chain id, the first version it is, how many
        versions the chain has). For listings, which show a revision by its chain."""
        rows = self.conn.execute("SELECT chain_id, version, report_id FROM report_versions "
                                 "ORDER BY chain_id, version").fetchall()
        count: dict[str, int] = {}
        for r in rows:
            count[str(r[0])] = max(count.get(str(r[0]), 0), int(r[1]))
        out: dict[str, tuple[str, int, int]] = {}
        for r in rows:
            out.setdefault(str(r[2]), (str(r[0]), int(r[1]), count[str(r[0])]))
        return out

    def versions(self, report_id: str) -> list[ReportVersion]:
        """:meth:`history`, with version 1 alone for a report never revised."""
        found = self.history(report_id)
        if found:
            return found
        row = self.conn.execute("SELECT created_at FROM reports WHERE id = ?",
                                (report_id,)).fetchone()
        if row is None:
            raise UnknownReportError(f"no saved report {report_id!r}",
                                     "see `qwenapp report --list` for ids")
        return [ReportVersion(report_id, 1, report_id, str(row[0]), "", "first version")]

    def current(self, report_id: str) -> str:
        """The report id of the newest version of ``report_id``'s chain."""
        found = self.history(report_id)
        return found[-1].report_id if found else report_id

    def version(self, report_id: str, n: int) -> ReportVersion:
        """Version ``n`` of ``report_id``'s chain; UnknownReportError when it has none."""
        found = self.versions(report_id)
        for v in found:
            if v.version == n:
                return v
        raise UnknownReportError(f"report {found[0].chain_id} has no version {n}",
                                 f"it has versions 1 to {found[-1].version}")

    def restore(self, report_id: str, n: int) -> ReportVersion:
        """Go back to version ``n``: its report becomes the newest version (a new one,
        ``changed`` naming the sections that differ from the version it replaces)."""
        old = self.version(report_id, n)
        latest = self.versions(report_id)[-1]
        changed = [d.section for d in compare_reports(load_report(self.conn, latest.report_id),
                                                      load_report(self.conn, old.report_id))
                   if d.status in ("changed", "added")]
        return self.add(latest.report_id, old.report_id, request=f"restore version {n}",
                        summary=f"restored version {n}", changed=changed)

    def add(self, parent_id: str, report_id: str, *, request: str, summary: str,
            changed: list[int]) -> ReportVersion:
        """``report_id`` as the next version of ``parent_id``'s chain (version 1 recorded
        first when ``parent_id`` was never revised)."""
        chain = self.chain_of(parent_id)
        now = datetime.now(UTC).isoformat(timespec="microseconds")
        with transaction(self.conn) as c:
            top = int(c.execute("SELECT coalesce(max(version), 0) FROM report_versions WHERE "
                                "chain_id = ?", (chain,)).fetchone()[0])
            if top == 0:
                c.execute("INSERT INTO report_versions (chain_id, version, report_id, "
                          "created_at, summary) VALUES (?, 1, ?, ?, 'first version')",
                          (chain, chain, now))
                top = 1
            c.execute("INSERT INTO report_versions (chain_id, version, report_id, created_at, "
                      "request, summary, changed) VALUES (?, ?, ?, ?, ?, ?, ?)",
                      (chain, top + 1, report_id, now, request, summary, json.dumps(changed)))
        return self.history(chain)[-1]


def delete_chain(c: Connection, report_id: str) -> None:
    """Inside the caller's transaction: every version of ``report_id``'s chain goes, each
    version's report with its saved stages (they hold the passages gathered from the
    user's documents), and the chain's rows. Deleting the report job that wrote version 1
    calls this, so no old version outlives its job."""
    r = c.execute("SELECT chain_id FROM report_versions WHERE report_id = ? ORDER BY version "
                  "LIMIT 1", (report_id,)).fetchone()
    chain = str(r[0]) if r else report_id
    ids = {report_id, chain} | {str(x[0]) for x in c.execute(
        "SELECT report_id FROM report_versions WHERE chain_id = ?", (chain,)).fetchall()}
    for rid in sorted(ids):
        c.execute("DELETE FROM report_stages WHERE report_id = ?", (rid,))
        c.execute("DELETE FROM reports WHERE id = ?", (rid,))
    c.execute("DELETE FROM report_versions WHERE chain_id = ?", (chain,))


@dataclass(frozen=True, slots=True)
class SectionDiff:
    section: int  # its number in b (0: removed)
    status: str  # same, changed, added, removed
    heading: str
    was: int = 0  # its number in a (0: added)


def _content(s: ReportSection) -> object:
    """What a section says: its sentences and the passages behind each, not its ``[n]``
    (references are numbered by first citation, so a longer section 1 renumbers the rest)."""
    if not s.sentences:
        return re.sub(r"\[\d+(?:\s*[,–-]\s*\d+)*\]", "", s.text)
    return [(x.text, tuple(x.passage_ids)) for x in s.sentences]


def compare_reports(a: Report, b: Report) -> list[SectionDiff]:
    """Which sections of ``b`` are as in ``a`` (same content), rewritten, new, or gone."""
    used: set[int] = set()
    out: list[SectionDiff] = []
    was = [_content(x) for x in a.sections]
    for j, s in enumerate(b.sections, 1):
        now = _content(s)
        same = next((i for i in range(len(a.sections)) if i not in used and was[i] == now),
                    None)
        if same is not None:
            used.add(same)
            out.append(SectionDiff(j, "same", s.heading, same + 1))
            continue
        near = next((i for i, x in enumerate(a.sections) if i not in used and
                     x.heading == s.heading), None)
        if near is None and len(a.sections) == len(b.sections) and j - 1 not in used:
            near = j - 1  # same place, another language or wording
        if near is not None:
            used.add(near)
            out.append(SectionDiff(j, "changed", s.heading, near + 1))
        else:
            out.append(SectionDiff(j, "added", s.heading))
    out += [SectionDiff(0, "removed", a.sections[i].heading, i + 1)
            for i in range(len(a.sections)) if i not in used]
    return out
