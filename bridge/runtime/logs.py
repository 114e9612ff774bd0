"""How the process logs: `[logging] level`, `format = "text" | "json"`; configured here and nowhere else.

JSON lines carry the time, level, logger and message, and, where the code gave them, the request id, route
name, status, duration and reason code (`FIELDS`). Nothing here adds a body or a client address; the
callers' rule (ids and reason codes only) stays what it was.
"""

from __future__ import annotations

import asyncio
import json
import logging
import sys
import time
from contextvars import ContextVar
from datetime import datetime, timezone

from bridge.config.model import LoggingConfig

LEVELS = {"debug": logging.DEBUG, "info": logging.INFO, "warning": logging.WARNING, "error": logging.ERROR}
HANDLER_NAME = "stadtbote"
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s %(message)s"
# Extra attributes a log call may pass (`log.info(..., extra={"route": …})`) that JSON lines keep.
FIELDS = ("request_id", "route", "status", "duration_ms", "reason")
# The request being handled, for every line logged while it runs (set by the web layer's middleware).
REQUEST_ID: ContextVar[str | None] = ContextVar("stadtbote_request_id", default=None)


class JsonFormatter(logging.Formatter):
    """One JSON object per line."""

    def format(self, record: logging.LogRecord) -> str:
        line = {"time": datetime.fromtimestamp(record.created, timezone.utc).isoformat(timespec="milliseconds"),
                "level": record.levelname.lower(), "logger": record.name, "message": record.getMessage()}
        request_id = getattr(record, "request_id", None) or REQUEST_ID.get()
        if request_id:
            line["request_id"] = request_id
        for name in FIELDS[1:]:
            value = getattr(record, name, None)
            if value is not None:
                line[name] = value
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False, default=str)


def configure(settings: LoggingConfig, level: str | None = None) -> None:
    """The root logger writes to stderr in the configured format; `level` overrides the configured one
    (commands other than `serve` and `worker` log warnings only). Called again, it replaces its own
    handler; a root logger someone else configured (a test runner, an embedding program) is left alone,
    as `logging.basicConfig` does."""
    root = logging.getLogger()
    ours = [h for h in root.handlers if h.get_name() == HANDLER_NAME]
    if len(ours) != len(root.handlers):
        return
    for old in ours:
        root.removeHandler(old)
    handler = logging.StreamHandler(sys.stderr)
    handler.set_name(HANDLER_NAME)
    handler.setFormatter(JsonFormatter() if settings.format == "json" else logging.Formatter(TEXT_FORMAT))
    root.addHandler(handler)
    root.setLevel(LEVELS[level or settings.level])
    # Alembic's own lines (plugin set-up, every upgrade step) repeat the one line per migration we print;
    # an operator sees them only when asking for debug.
    logging.getLogger("alembic").setLevel(logging.DEBUG if (level or settings.level) == "debug" else logging.WARNING)


class LineWriter:
    """Lines of one busy logger (the access log) written to the configured handler's stream as that handler
    would write them, but gathered per event-loop turn: under load one write carries many lines, and no
    `LogRecord` is made for each request (the logging module's path cost about a fifth of a cached answer).
    Used only while the root logger has nothing but the handler `configure` installed; else (a test's
    capture, an embedding program) lines go through the logging module as usual."""

    def __init__(self, handler: logging.StreamHandler, json_lines: bool):
        self.handler, self.json_lines = handler, json_lines
        self.pending: list[str] = []
        self._second, self._stamp = -1, ""

    def write(self, logger: str, message: str, fields: dict) -> None:
        now = time.time()
        if self.json_lines:
            line = {"time": datetime.fromtimestamp(now, timezone.utc).isoformat(timespec="milliseconds"),
                    "level": "info", "logger": logger, "message": message}
            line.update((k, v) for k, v in fields.items() if v is not None)
            text = json.dumps(line, ensure_ascii=False, default=str)
        else:
            second = int(now)
            if second != self._second:  # as logging.Formatter's asctime, made once per second
                self._second, self._stamp = second, time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(second))
            text = f"{self._stamp},{int((now - second) * 1000):03d} INFO {logger} {message}"
        if not self.pending:
            try:
                asyncio.get_running_loop().call_soon(self.flush)
            except RuntimeError:  # no loop: write at once
                self.pending.append(text)
                self.flush()
                return
        self.pending.append(text)

    def flush(self) -> None:
        lines, self.pending = self.pending, []
        if not lines:
            return
        with self.handler.lock:
            try:
                self.handler.stream.write("\n".join(lines) + "\n")
                self.handler.stream.flush()
            except Exception:  # noqa: BLE001 — as logging.Handler.handleError: a log line never stops a request
                pass


def line_writer(logger: logging.Logger) -> LineWriter | None:
    """A `LineWriter` for `logger` when its lines would reach only the handler `configure` installed."""
    root = logging.getLogger()
    if logger.handlers or not logger.propagate or len(root.handlers) != 1 or logger.filters:
        return None
    handler = root.handlers[0]
    if handler.get_name() != HANDLER_NAME or not isinstance(handler, logging.StreamHandler) or handler.filters:
        return None
    if not logger.isEnabledFor(logging.INFO):
        return None
    return LineWriter(handler, isinstance(handler.formatter, JsonFormatter))
