"""Writes of the core: audit events."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from assure.core.models import AuditEvent


@dataclass(frozen=True)
class Actor:
    """Who acts: a member, a staff member, the system, or a fund feed. Passed to every service."""

    kind: str
    id: str = ""
    display: str = ""

    @classmethod
    def system(cls, display: str = "assure") -> Actor:
        return cls(kind=AuditEvent.ActorKind.SYSTEM, id="", display=display)

    @classmethod
    def feed(cls, name: str) -> Actor:
        return cls(kind=AuditEvent.ActorKind.FEED, id=name, display=name)


def audit_record(
    *,
    actor: Actor,
    action: str,
    member_id: int | None = None,
    object_type: str = "",
    object_id: str | int = "",
    reason: str = "",
    data: dict[str, Any] | None = None,
) -> AuditEvent:
    """Append one event. Call it inside the transaction of the change it records."""
    return AuditEvent.objects.create(
        actor_kind=actor.kind,
        actor_id=str(actor.id),
        actor_display=actor.display[:150],
        action=action,
        member_id=member_id,
        object_type=object_type,
        object_id=str(object_id),
        reason=reason[:200],
        data=data or {},
    )
