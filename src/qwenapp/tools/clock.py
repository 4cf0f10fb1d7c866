"""The current date and time: the one fact a model can never know by itself."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from ..models.events import ToolSpec
from .base import FunctionTool, ToolFailure

__all__ = ["clock_tool"]


def clock_tool(now: Callable[[], datetime] | None = None) -> FunctionTool:
    """``now`` (a timezone-aware clock) is injectable for tests; default: the system clock."""
    clock = now or (lambda: datetime.now(UTC))

    async def current_time(args: Mapping[str, Any]) -> str:
        name = str(args.get("timezone") or "").strip()
        moment = clock()
        if name:
            try:
                moment = moment.astimezone(ZoneInfo(name))
            except (ZoneInfoNotFoundError, ValueError):
                raise ToolFailure(f"unknown time zone {name!r}",
                                  "use an IANA name like Europe/Paris or Asia/Shanghai") from None
        else:
            moment = moment.astimezone()  # the machine's own zone
        zone = moment.tzname() or ""
        return (f"{moment:%A, %d %B %Y, %H:%M:%S} {zone} "
                f"(ISO 8601: {moment.isoformat(timespec='seconds')})")

    return FunctionTool(ToolSpec(
        "current_time", "The current date, time and weekday, in a time zone.",
        {"type": "object", "properties": {"timezone": {
            "type": "string", "description": "IANA name such as Europe/Paris; empty: local"}}}),
        current_time, timeout=5.0)
