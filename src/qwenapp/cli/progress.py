"""Progress drawn on the terminal: model downloads (:class:`~qwenapp.models.fetch.FetchProgress`)
and OCR of long scans."""

from __future__ import annotations

from typing import Any

__all__ = ["ConsoleProgress", "PageProgress"]


class ConsoleProgress:
    """Model-fetch progress drawn on a rich *console* (``None``: nothing at all).

    On a terminal: live bars, started only when there is something to show (a
    cache hit prints nothing) and erased when done. Elsewhere (a log, a pipe):
    one plain line per step instead of bars.
    """

    def __init__(self, console: Any = None) -> None:
        self._console = console
        self._bars: Any = None
        self._next_id = 0

    def close(self) -> None:
        if self._bars is not None:
            self._bars.stop()
            self._bars = None

    def note(self, text: str) -> None:
        if self._console is not None:
            self._console.print(text, markup=False, highlight=False)

    def _live(self) -> Any:
        if self._bars is None:
            from rich.progress import (
                BarColumn,
                DownloadColumn,
                Progress,
                TextColumn,
                TimeRemainingColumn,
                TransferSpeedColumn,
            )

            self._bars = Progress(
                TextColumn("{task.description}"), BarColumn(), DownloadColumn(),
                TransferSpeedColumn(), TimeRemainingColumn(), console=self._console,
                transient=True,
            )
            self._bars.start()
        return self._bars

    def _say(self, description: str) -> None:
        self._console.print(f"{description}…", markup=False, highlight=False)

    def add(self, description: str, total: int | None, completed: int = 0) -> int:
        """Start a bar; returns its id."""
        if self._console is None:
            return 0
        if not self._console.is_terminal:
            self._say(description)
            self._next_id += 1
            return self._next_id
        return int(self._live().add_task(description, total=total or None, completed=completed))

    def update(self, task: int, *, description: str | None = None, advance: int = 0,
               completed: int | None = None) -> None:
        if self._console is None:
            return
        if not self._console.is_terminal:
            if description:
                self._say(description)
            return
        self._live().update(task, description=description, advance=advance or None,
                            completed=completed)

    def done(self, task: int) -> None:
        """Remove a bar (again: harmless)."""
        if self._bars is not None and task in self._bars.task_ids:
            self._bars.remove_task(task)


class PageProgress:
    """OCR of a long scan drawn on a rich *console*: "scan.pdf: OCR page 3 of 40".

    Called as ``progress(path, done, total)`` from the reader's thread (the
    library's ``ingest(progress=...)``). On a terminal: one bar per file,
    erased when the file is done. Elsewhere: a plain line about every tenth
    of the pages, so a log shows the scan moving without a line per page.
    """

    def __init__(self, console: Any) -> None:
        self._console = console
        self._bars: Any = None
        self._tasks: dict[Any, int] = {}

    def __call__(self, path: Any, done: int, total: int) -> None:
        name = getattr(path, "name", str(path))
        if not self._console.is_terminal:
            step = max(1, total // 10)
            if done and (done == total or done % step == 0):
                self._console.print(f"{name}: OCR page {done} of {total}", markup=False,
                                    highlight=False)
            return
        if self._bars is None:
            from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

            self._bars = Progress(TextColumn("{task.description}"), BarColumn(),
                                  MofNCompleteColumn(), TextColumn("pages"),
                                  console=self._console, transient=True)
            self._bars.start()
        if path not in self._tasks:
            self._tasks[path] = self._bars.add_task(f"{name}: OCR", total=total)
        self._bars.update(self._tasks[path], completed=done, total=total)
        if done >= total:
            self.done(path)

    def done(self, path: Any) -> None:
        """The file is read: remove its bar (harmless when it had none)."""
        task = self._tasks.pop(path, None)
        if task is not None and self._bars is not None:
            self._bars.remove_task(task)

    def close(self) -> None:
        if self._bars is not None:
            self._bars.stop()
            self._bars = None
