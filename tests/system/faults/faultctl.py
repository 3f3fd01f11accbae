"""Sets up and reads the fault tests' data, from a process of its own (the server's settings).

python tests/system/faults/faultctl.py member N         -> one JSON line: nir, code, device cookie
python tests/system/faults/faultctl.py emails N PREFIX  -> queues N e-mails, prints their ids
"""

from __future__ import annotations

import datetime as dt
import json
import os
import sys


def _member(n: int) -> dict[str, str]:
    from django.conf import settings
    from django.contrib.auth.hashers import make_password
    from django.core import signing
    from django.utils import timezone

    from assure.identity import services
    from assure.identity.models import Account, KnownDevice
    from assure.identity.views import DEVICE_SALT
    from assure.members.nir import with_key
    from tests.members.factories import MemberFactory

    member = MemberFactory(
        external_id=f"FAULT{n:04d}",
        nir=with_key(f"28505750{n + 100:05d}"),
        birth_name=f"PANNE{chr(65 + n)}",
    )
    code = f"Panne-{n}-resiste"
    account = Account.objects.create(
        member=member, secret_code_hash=make_password(code), must_change_code=False
    )
    # A browser that passed the second factor before: the login needs NIR and code only.
    device_id = f"fault-device-{n}"
    KnownDevice.objects.create(
        account=account,
        device_hash=services.device_hash_for(device_id, kind="web"),
        label="Firefox, Linux",
        expires_at=timezone.now() + dt.timedelta(days=30),
    )
    cookie = signing.get_cookie_signer(salt=settings.IDENTITY_DEVICE_COOKIE + DEVICE_SALT).sign(
        device_id
    )
    return {
        "nir": member.nir,
        "code": code,
        "name": member.birth_name,
        "device_cookie_name": settings.IDENTITY_DEVICE_COOKIE,
        "device_cookie": cookie,
        # Signed like an app's access token, for a session that does not exist: the API looks it
        # up in the database and answers 401.
        "api_token": signing.dumps({"s": 10**9}, salt=services.ACCESS_SALT),
    }


def _emails(count: int, prefix: str) -> list[int]:
    from assure.notifications.services import email_queue

    ids = []
    for n in range(count):
        message = email_queue(
            to=f"destinataire{n}@example.org",
            template="test_notice",
            context={"first_name": f"Membre {n}"},
            idempotency_key=f"{prefix}-{n}",
        )
        ids.append(message.pk)
    return ids


def main() -> None:
    os.environ["DJANGO_SETTINGS_MODULE"] = "assure.settings"
    import django

    django.setup()
    if sys.argv[1] == "member":
        print(json.dumps(_member(int(sys.argv[2]))))
    elif sys.argv[1] == "emails":
        print(json.dumps(_emails(int(sys.argv[2]), sys.argv[3])))
    else:
        raise SystemExit(f"unknown command {sys.argv[1]}")


if __name__ == "__main__":
    main()
