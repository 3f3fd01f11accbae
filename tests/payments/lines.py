"""Feed lines as the fund sends them: valid by default, changed field by field by the tests."""

from __future__ import annotations

import io
import json
from typing import Any

from assure.core.feeds import feed_get, feed_load
from assure.core.models import FeedRun


def statement_line(nir: str, **changes: Any) -> dict[str, Any]:
    line: dict[str, Any] = {
        "external_id": "ST-1",
        "member_nir": nir,
        "beneficiary_external_id": None,
        "status": "paid",
        "care_date": "2026-10-20",
        "received_on": "2026-10-22",
        "paid_on": "2026-11-06",
        "category": "consultation",
        "act_code": "G",
        "label": "Consultation chez le médecin généraliste",
        "provider": "Dr Martin",
        "amount_charged": "30.00",
        "base_amount": "30.00",
        "rate": 70,
        "reimbursed": "19.00",
        "flat_fee": "2.00",
        "deductible": "0.00",
        "paid_to": "member",
        "complementary_forwarded": True,
        "payment_reference": "PAY-1",
        "rejection_reason": None,
    }
    line.update(changes)
    return line


def allowance_line(nir: str, **changes: Any) -> dict[str, Any]:
    line: dict[str, Any] = {
        "external_id": "IJ-1",
        "member_nir": nir,
        "sick_leave": {
            "external_id": "AT-1",
            "kind": "illness",
            "start": "2026-10-01",
            "end": None,
        },
        "status": "paid",
        "period_start": "2026-10-01",
        "period_end": "2026-10-14",
        "days": 11,
        "daily_gross": "41.47",
        "gross": "456.17",
        "social_levies": "30.56",
        "net": "425.61",
        "paid_on": "2026-10-20",
        "paid_to": "member",
    }
    line.update(changes)
    return line


def load(feed: str, lines: list[Any], *, batch_size: int | None = None):
    body = "\n".join(line if isinstance(line, str) else json.dumps(line) for line in lines)
    rejects = []
    result, _run = feed_load(
        feed=feed_get(feed),
        stream=io.BytesIO(body.encode()),
        source=FeedRun.Source.CLI,
        actor="tests",
        on_reject=rejects.append,
        batch_size=batch_size,
    )
    return result, rejects
