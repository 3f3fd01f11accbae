"""Argon2id with the cost set in settings (OWASP minimum m=19 MiB, t=2, p=1).

Django's stock Argon2 hasher asks 100 MiB per hash, which lets a flood of logins exhaust a web
server's memory; ours is tuned by ARGON2_* settings and rehashes on login when they change.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.hashers import Argon2PasswordHasher


class Argon2idHasher(Argon2PasswordHasher):
    algorithm = "argon2"

    @property
    def memory_cost(self) -> int:  # type: ignore[override]
        return int(settings.ARGON2_MEMORY_COST_KIB)

    @property
    def time_cost(self) -> int:  # type: ignore[override]
        return int(settings.ARGON2_TIME_COST)

    @property
    def parallelism(self) -> int:  # type: ignore[override]
        return int(settings.ARGON2_PARALLELISM)
