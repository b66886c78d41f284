"""Process-wide logging set-up: one line per record on stderr, as JSON or text.

`TODO_LOG_LEVEL` sets the level. `TODO_LOG_FORMAT` is `json` (the default: one object per line,
what a cluster's log collector parses from `todo serve` in a container) or `text` (what `todo up`
writes, for people to read). Every line carries the correlation id of the request it was written
for and, in a consumer, the event it is about (`request_context`); while tracing is on, also the
ids of the span it was written in (`trace_id`, `span_id`: `tracing.span_ids`).
"""

from __future__ import annotations

import contextlib
import json
import logging
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Final

from todo_runtime import request_context, tracing
from todo_runtime.config import ConfigError, Env

log = logging.getLogger(__name__)

FORMAT_ENV: Final = "TODO_LOG_FORMAT"
BAD_SETTINGS_EXIT: Final = 2  # the exit status of a process stopped by a setting
FORMATS: Final = ("json", "text")
_CONTEXT_FIELDS: Final = ("correlation_id", "event_id", "topic", "trace_id", "span_id")


class ContextFilter(logging.Filter):
    """Puts the request's correlation id, the event being handled and, while tracing is on, the
    current span's ids on every record."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.correlation_id = request_context.correlation_id()
        record.event_id, record.topic = request_context.current_event() or (None, None)
        ids = tracing.span_ids()  # None at once while tracing is off
        if ids is not None:
            record.trace_id, record.span_id = ids
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per record: time, level, component, logger, message, the request's
    correlation id, event and span when set, and the exception's traceback when there is one."""

    def __init__(self, component: str) -> None:
        super().__init__()
        self._component = component

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, object] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "component": self._component,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for field in _CONTEXT_FIELDS:
            value = getattr(record, field, None)
            if value is not None:
                line[field] = value
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        if record.stack_info:
            line["stack"] = self.formatStack(record.stack_info)
        return json.dumps(line)


class TextFormatter(logging.Formatter):
    """`time level component logger [correlation id event id trace_id=… span_id=…]: message`,
    then any traceback; each part in brackets only when set."""

    def __init__(self, component: str) -> None:
        super().__init__(f"%(asctime)s %(levelname)s {component} %(name)s%(context)s: %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        ids = [getattr(record, field, None) for field in ("correlation_id", "event_id")]
        ids += [
            f"{field}={value}"
            for field in ("trace_id", "span_id")
            if (value := getattr(record, field, None))
        ]
        shown = " ".join(value for value in ids if value)
        record.context = f" [{shown}]" if shown else ""
        return super().format(record)


def configure_logging(component: str) -> None:
    """Sends every record to stderr in the format `TODO_LOG_FORMAT` names (see the module)."""
    env = Env()
    level = env.text("TODO_LOG_LEVEL", "INFO").upper()
    chosen = env.text(FORMAT_ENV, "json").lower()
    if chosen not in FORMATS:
        raise ConfigError(f"environment variable {FORMAT_ENV} must be json or text, got {chosen!r}")
    handler = logging.StreamHandler()
    handler.addFilter(ContextFilter())
    handler.setFormatter(JsonFormatter(component) if chosen == "json" else TextFormatter(component))
    logging.basicConfig(level=level, handlers=[handler], force=True)
    # asyncpg logs every failed attempt to refill its pool, with a traceback, all through a
    # database outage; the service's database watch reports the outage once instead.
    logging.getLogger("asyncpg.pool").setLevel(logging.ERROR)


@contextlib.contextmanager
def stop_on_bad_settings(component: str) -> Iterator[None]:
    """A setting that cannot work stops the process at start with one line naming the variable
    (exit status 2), never a traceback: the line is what `kubectl logs` shows an operator. Before
    logging is configured (a bad TODO_LOG_FORMAT) the line goes to stderr as it is."""
    try:
        yield
    except ConfigError as error:
        log.critical("%s cannot start: %s", component, error)
        raise SystemExit(BAD_SETTINGS_EXIT) from None
