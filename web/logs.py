"""Structured logs: one JSON object per line (time, level, logger, message; method, path, status and
duration for requests) when DOEFLOW_LOG_FORMAT=json, the default in production; a line of text
otherwise.

`configure()` sets up the root logger (the app, the engine, the worker); `GunicornLogger` does the
same for gunicorn's own logs and writes its access log as one structured line per request
(`--logger-class web.logs.GunicornLogger`, as scripts/serve.sh passes). `python -m web.logs`
turns the lines of a command's output (e.g. `flask db upgrade`) into log lines of the same format.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
from datetime import datetime, timezone

from gunicorn.glogging import Logger as _GunicornBaseLogger

FORMATS = ("json", "text")
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s %(message)s"
# Attributes of a log record copied into the JSON object when present (the request fields).
EXTRA_FIELDS = ("method", "path", "query", "status", "duration_ms", "bytes", "remote_addr", "user_agent", "pid")


def log_format() -> str:
    """DOEFLOW_LOG_FORMAT (json or text); unset: json in production (DOEFLOW_ENV), text otherwise."""
    value = (os.environ.get("DOEFLOW_LOG_FORMAT") or "").strip().lower()
    if not value:
        return "json" if os.environ.get("DOEFLOW_ENV", "").strip() == "production" else "text"
    if value not in FORMATS:
        raise RuntimeError(f"DOEFLOW_LOG_FORMAT must be one of {', '.join(FORMATS)}, not {value!r}")
    return value


class JsonFormatter(logging.Formatter):
    """One JSON object per record, on one line (newlines in messages and tracebacks are escaped)."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": _iso(record.created),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for field in EXTRA_FIELDS:
            value = getattr(record, field, None)
            if value is not None:
                entry[field] = value
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        return json.dumps(entry, ensure_ascii=False, default=str)


def _iso(timestamp: float) -> str:
    return datetime.fromtimestamp(timestamp, timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def formatter(text_format: str = TEXT_FORMAT, datefmt: str | None = None) -> logging.Formatter:
    return JsonFormatter() if log_format() == "json" else logging.Formatter(text_format, datefmt)


def configure(level: int = logging.INFO) -> None:
    """The root logger writes to stderr in the chosen format; calling it again changes nothing."""
    root = logging.getLogger()
    logging.getLogger("alembic.runtime.plugins").setLevel(logging.WARNING)  # a line per plugin is noise
    if any(getattr(handler, "_doeflow", False) for handler in root.handlers):
        return
    if log_format() == "text":
        logging.basicConfig(level=level, format=TEXT_FORMAT)
        return
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    handler._doeflow = True  # type: ignore[attr-defined]
    root.addHandler(handler)
    root.setLevel(level)


class GunicornLogger(_GunicornBaseLogger):
    """gunicorn's error and access logs in the format of DOEFLOW_LOG_FORMAT; in JSON, each request
    is one object with method, path, status, duration_ms, bytes and the client's address."""

    def setup(self, cfg) -> None:
        super().setup(cfg)
        self._json = log_format() == "json"
        if self._json:
            for log in (self.error_log, self.access_log):
                for handler in log.handlers:
                    if getattr(handler, "_gunicorn", False):
                        handler.setFormatter(JsonFormatter())

    def access(self, resp, req, environ, request_time) -> None:
        if not getattr(self, "_json", False):
            super().access(resp, req, environ, request_time)
            return
        if not self.access_log_enabled:
            return
        status = resp.status.split(None, 1)[0] if isinstance(resp.status, str) else resp.status
        method, path = environ.get("REQUEST_METHOD"), environ.get("PATH_INFO")
        fields = {
            "method": method,
            "path": path,
            "query": environ.get("QUERY_STRING") or None,
            "status": int(status) if str(status).isdigit() else status,
            "duration_ms": round(request_time.total_seconds() * 1000, 2),
            "bytes": getattr(resp, "sent", None),
            "remote_addr": environ.get("REMOTE_ADDR"),
            "user_agent": environ.get("HTTP_USER_AGENT"),
            "pid": os.getpid(),
        }
        try:
            self.access_log.info("%s %s %s", method, path, status, extra=fields)
        except Exception:  # noqa: BLE001 - a log line must never break a response
            self.exception("access log failed")


def main(argv: list[str] | None = None) -> int:
    """Each line of standard input becomes a log record (lines already JSON objects pass as they are)."""
    parser = argparse.ArgumentParser(prog="python -m web.logs", description=main.__doc__)
    parser.add_argument("--logger", default="doeflow")
    parser.add_argument("--level", default="INFO", choices=["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"])
    args = parser.parse_args(argv)
    log = logging.getLogger(args.logger)
    log.propagate = False
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(formatter())
    log.addHandler(handler)
    log.setLevel(logging.DEBUG)
    level = getattr(logging, args.level)
    json_output = log_format() == "json"
    for line in sys.stdin:
        line = line.rstrip("\n")
        if not line.strip():
            continue
        if json_output and line.lstrip().startswith("{"):
            try:
                if isinstance(json.loads(line), dict):
                    print(line, flush=True)
                    continue
            except ValueError:
                pass
        log.log(level, line)
    return 0


if __name__ == "__main__":
    sys.exit(main())
