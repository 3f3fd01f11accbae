"""Log records never carry a NIR, an IBAN or an e-mail address in clear (STYLE.md, 7)."""

from __future__ import annotations

import json
import logging
import re
from datetime import UTC, datetime

# A NIR: sex digit, year, month, department (2A/2B too), commune, order, optional key; spaces
# and dots between groups are common when people type them.
_NIR = re.compile(
    r"\b[1-478][\s.]?\d{2}[\s.]?\d{2}[\s.]?(?:\d{2}|2[AaBb])[\s.]?\d{3}[\s.]?\d{3}(?:[\s.]?\d{2})?\b"
)
_IBAN = re.compile(r"\b[A-Z]{2}\d{2}(?:[ ]?[A-Z0-9]{4}){2,7}(?:[ ]?[A-Z0-9]{1,4})?\b")
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_BEARER = re.compile(r"(?i)(bearer\s+)[\w.~+/=-]+")


def mask(text: str) -> str:
    text = _BEARER.sub(r"\1[token]", text)
    text = _EMAIL.sub("[email]", text)
    text = _IBAN.sub("[iban]", text)
    return _NIR.sub("[nir]", text)


class MaskIdentifiersFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a badly formatted record is still logged, masked as a whole
            message = str(record.msg)
        record.msg = mask(message)
        record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = mask(record.exc_text)
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object a line, for log shipping in production."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, tz=UTC).isoformat(),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        elif record.exc_text:
            entry["exception"] = record.exc_text
        return json.dumps(entry, ensure_ascii=False)
