"""Log records never carry a NIR, an IBAN or an e-mail address in clear (STYLE.md, 7).

The filter sits on the handler, so it sees every record whichever logger emitted it, and it masks
the message after formatting (identifiers often come in as arguments), the traceback (exception
messages quote the faulty value) and the stack. Masking too much is harmless in a log; masking
too little is a leak, so the patterns err on the generous side.
"""

from __future__ import annotations

import json
import logging
import re
from datetime import UTC, datetime

_SEP = r"[\s.]?"
# A NIR: sex digit, year, month, then department and commune (2 + 3 digits, 2A/2B for Corsica,
# or 3 + 2 digits overseas), order number, optional 2-digit key; people type spaces or dots
# between the groups.
_NIR = re.compile(
    rf"\b[1-478]{_SEP}\d{{2}}{_SEP}\d{{2}}{_SEP}"
    rf"(?:(?:\d{{2}}|2[AaBb]){_SEP}\d{{3}}|\d{{3}}{_SEP}\d{{2}})"
    rf"{_SEP}\d{{3}}(?:{_SEP}\d{{2}})?\b"
)
# An IBAN: country, check digits, then 11 to 30 letters or digits, in groups of four or not.
_IBAN = re.compile(r"\b[A-Za-z]{2}\d{2}(?:[ ]?[A-Za-z0-9]{4}){2,7}(?:[ ]?[A-Za-z0-9]{1,4})?\b")
_EMAIL = re.compile(r"[\w.+'-]+@[\w-]+(?:\.[\w-]+)+")
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
            message = f"{record.msg} {record.args}"
        record.msg = mask(message)
        record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = mask(record.exc_text)
        if record.stack_info:
            record.stack_info = mask(record.stack_info)
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object a line, for log shipping in production.

    The traceback comes from `exc_text`, which the masking filter has already cleaned; formatting
    `exc_info` again would bring the identifiers back.
    """

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, tz=UTC).isoformat(),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            entry["exception"] = record.exc_text
        if record.stack_info:
            entry["stack"] = record.stack_info
        return json.dumps(entry, ensure_ascii=False)
