"""Django's database sessions, with the row read by a query compiled once.

Every request with a session cookie reads its row; through the ORM the query's compilation cost
more than the query itself (assure.core.compiled). Everything else is Django's own backend.
"""

from __future__ import annotations

from django.contrib.sessions.backends import db
from django.contrib.sessions.models import Session
from django.db.models import QuerySet
from django.utils import timezone

from assure.core.compiled import CompiledRead


def _by_key(session_key: str) -> QuerySet[Session]:
    return Session.objects.filter(session_key=session_key)[:1]


# The expiry is checked on the row read rather than in SQL: a time is not a stand-in value that
# can be put back among the compiled parameters as it is (each database writes it its own way).
_session_by_key = CompiledRead(Session, _by_key, stand_ins=("-",))


class SessionStore(db.SessionStore):
    def _get_session_from_db(self) -> Session | None:
        found = _session_by_key.first(self.session_key) if self.session_key else None
        if found is None or found.expire_date <= timezone.now():
            self._session_key = None
            return None
        return found
