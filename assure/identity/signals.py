"""What identity announces to the layers above it, which it must not import (STYLE.md layers)."""

from __future__ import annotations

from django.dispatch import Signal

# Sent once per login attempt by `services.login`, with `outcome` = "success" (the code was right:
# authenticated, or a second factor or a code change follows), "failure" (wrong or replaced code)
# or "locked" (the NIR or the address is locked).
login_attempted = Signal()
