"""How the process logs: `[logging] level`, `format = "text" | "json"`; configured here and nowhere else.

JSON lines carry the time, level, logger and message, and, where the code gave them, the request id, route
name, status, duration and reason code (`FIELDS`). Nothing here adds a body or a client address; the
callers' rule (ids and reason codes only) stays what it was.
"""

from __future__ import annotations

import json
import logging
import sys
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
