"""Log records in one line each, as the command line and the service write them."""

from __future__ import annotations

import logging

from store.errors import one_line


class OneLineFormatter(logging.Formatter):
    """Log records in one line: an exception is added as one line unless tracebacks are wanted
    (-v), or the record asks for its traceback (`extra={"traceback": True}`); `extra={"described": True}`
    says that the message already describes the exception."""

    def __init__(self, *, tracebacks: bool) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s: %(message)s")
        self.tracebacks = tracebacks

    def format(self, record: logging.LogRecord) -> str:
        if record.exc_info and not self.tracebacks and not getattr(record, "traceback", False):
            exc = record.exc_info[1]
            record = logging.makeLogRecord(record.__dict__)
            text = record.getMessage()
            record.msg = text if exc is None or getattr(record, "described", False) else f"{text}: {one_line(exc)}"
            record.args = None
            record.exc_info = None
            record.exc_text = None
        return super().format(record)
