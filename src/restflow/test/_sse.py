"""Server-sent events, parsed as the WHATWG HTML standard describes them.

The parser takes the decoded text of an ``text/event-stream`` body, chunk by
chunk, and returns the events each chunk completes. It follows the event
stream interpretation of the standard: lines end in CRLF, LF or CR; a line
starting with a colon is a comment; ``field: value`` loses one space after
the colon; a blank line dispatches the event built so far, unless it has no
data; ``id`` persists from event to event; an event still open when the
stream ends is dropped. (httpx-sse, which the events are modelled on, also
dispatches an event that has no data; the standard does not.)

The standard tells browsers to ignore fields it does not know and ``retry``
values that are not digits. A test should rather hear about them (``dta:``
for ``data:`` is a bug in the server), so the parser is strict unless asked
not to be, and names the offending line.
"""

from __future__ import annotations

import dataclasses
import json
from typing import Any

__all__ = ["EventStreamParser", "SSEError", "ServerSentEvent"]


class SSEError(ValueError):
    """A server-sent event stream that breaks the format."""


@dataclasses.dataclass(frozen=True)
class ServerSentEvent:
    """One event of a ``text/event-stream`` response."""

    #: The event type; ``"message"`` unless the server named one.
    event: str = "message"
    #: The data lines of the event, joined with ``"\n"``.
    data: str = ""
    #: The last event ID the stream has set, as a browser would send it in
    #: ``Last-Event-ID`` when reconnecting (``""`` if none).
    id: str = ""
    #: The reconnection time, in milliseconds, that this event's lines set,
    #: or ``None`` (as in httpx-sse).
    retry: int | None = None

    def json(self, **kwargs: Any) -> Any:
        """The event's data parsed as JSON."""
        return json.loads(self.data, **kwargs)


class EventStreamParser:
    """Turns event-stream text into :class:`ServerSentEvent` objects."""

    def __init__(self, *, strict: bool = True) -> None:
        self.strict = strict
        self._partial = ""  # text after the last complete line
        self._line_number = 0
        self._event_type = ""
        self._data: list[str] = []
        self._last_id = ""
        self._retry: int | None = None
        self._started = False

    def feed(self, text: str) -> list[ServerSentEvent]:
        """Parse the next piece of the stream; return the events it completes."""
        if not self._started and text:
            self._started = True
            text = text.removeprefix("\ufeff")
        text = self._partial + text
        # A CR at the very end may be the first half of a CRLF: keep it.
        keep_cr = text.endswith("\r")
        if keep_cr:
            text = text[:-1]
        lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
        self._partial = lines.pop() + ("\r" if keep_cr else "")
        events: list[ServerSentEvent] = []
        for line in lines:
            self._line_number += 1
            event = self._line(line)
            if event is not None:
                events.append(event)
        return events

    def close(self) -> list[ServerSentEvent]:
        """The stream has ended: finish a line ended by a last lone CR."""
        events: list[ServerSentEvent] = []
        if self._partial.endswith("\r"):
            self._line_number += 1
            event = self._line(self._partial[:-1])
            if event is not None:
                events.append(event)
        self._partial = ""
        return events

    def _line(self, line: str) -> ServerSentEvent | None:
        if not line:
            return self._dispatch()
        if line.startswith(":"):
            return None
        field, colon, value = line.partition(":")
        if colon and value.startswith(" "):
            value = value[1:]
        if field == "data":
            self._data.append(value)
        elif field == "event":
            self._event_type = value
        elif field == "id":
            if "\0" not in value:
                self._last_id = value
        elif field == "retry":
            if value.isascii() and value.isdigit():
                self._retry = int(value)
            elif self.strict:
                raise SSEError(
                    f"line {self._line_number} of the event stream, {line!r}: "
                    "retry must be a number of milliseconds"
                )
        elif self.strict:
            raise SSEError(
                f"line {self._line_number} of the event stream, {line!r}: "
                f"{field!r} is not a field of server-sent events (those are "
                "event, data, id and retry; a comment starts with ':')"
            )
        return None

    def _dispatch(self) -> ServerSentEvent | None:
        data, event_type, retry = self._data, self._event_type, self._retry
        self._data, self._event_type, self._retry = [], "", None
        if not data:
            return None
        return ServerSentEvent(
            event=event_type or "message",
            data="\n".join(data),
            id=self._last_id,
            retry=retry,
        )
