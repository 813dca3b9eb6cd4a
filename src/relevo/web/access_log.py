"""Keep API keys out of the access log.

Keys travel in headers, and a key in the query string is refused (``web.auth``); but the
refused request's line is still logged, and a URL is copied wherever logs go. Every access
log line therefore shows only the public prefix of any key it contains.
"""

from __future__ import annotations

import copy
import logging
import re
from typing import Any

from uvicorn.config import LOGGING_CONFIG

#: ``rlv_<prefix>_<secret>``: the prefix is public (it names the key), the secret is not.
_KEY = re.compile(r"(rlv_[0-9A-Za-z]+_)[A-Za-z0-9_\-%.~]+")
HIDDEN = "[hidden]"


def redact(text: str) -> str:
    """``text`` with the secret part of every API key replaced by ``[hidden]``."""
    return _KEY.sub(rf"\g<1>{HIDDEN}", text)


class RedactKeys(logging.Filter):
    """A logging filter that hides key secrets in a record's message and arguments."""

    def filter(self, record: logging.LogRecord) -> bool:
        """Always keeps the record; rewrites the text parts that may carry a key."""
        if isinstance(record.msg, str):
            record.msg = redact(record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(redact(a) if isinstance(a, str) else a for a in record.args)
        return True


def log_config() -> dict[str, Any]:
    """uvicorn's logging configuration with ``RedactKeys`` on every handler."""
    config = copy.deepcopy(LOGGING_CONFIG)
    config.setdefault("filters", {})["redact_keys"] = {"()": f"{__name__}.RedactKeys"}
    for handler in config["handlers"].values():
        handler.setdefault("filters", []).append("redact_keys")
    return config
