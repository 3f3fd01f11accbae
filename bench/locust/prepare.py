"""The people of the Locust scenario, set up in the database the cluster serves.

    DATABASE_URL=... ASSURE_DATA_DIR=... python bench/locust/prepare.py --members 200 \\
        --advisors 8 --out var/bench/locust/people.json

Members: taken evenly along the register already loaded (bench/load_scale.py), each given an
account with a known secret code and a trusted browser (device), as a member who signed in once
with the e-mail code would have: the signed device cookie that browser holds is written out, so
that each simulated member signs in with a known device (NIR + secret code, no second step).
Advisors: created and enrolled through the back office's services (password and authenticator
app); their TOTP secrets are written out so that Locust computes the codes as a phone would.

Run with the same DATABASE_URL and ASSURE_DATA_DIR (hence the same secret key) as the web
processes. Running it again reuses the same people (their cookies stay valid), and on a bench
database (assure_bench*) first removes the conversations and certificates an earlier run gave
them: each run then starts from the same state (otherwise every run left about 900 threads in the
advisors' queue and two more certificates per member, and the next run measured a heavier mix).
The audit trail keeps its events: it is append-only.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
SECRET = "une phrase de banc d'essai pour la charge"  # noqa: S105 - throw-away bench data
ADVISOR_PASSWORD = "une longue phrase pour mesurer la charge du portail"  # noqa: S105 - throw-away bench data


def _setup() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "assure.settings")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()


def members(count: int, device_cookie: str) -> list[dict[str, object]]:
    from django.conf import settings
    from django.contrib.auth.hashers import make_password
    from django.core import signing
    from django.db.models import Max
    from django.utils import timezone

    from assure.identity.models import Account, KnownDevice
    from assure.identity.services import device_hash_for
    from assure.identity.views import DEVICE_SALT
    from assure.members.models import Member
    from assure.payments.models import Statement

    # Members whose statements are loaded (all of them once bench/load_scale.py has finished; the
    # first ones, in the register's order, while it runs or when it was stopped early).
    last = Statement.objects.aggregate(last=Max("member_id"))["last"]
    candidates = Member.objects.order_by("pk")
    if last is not None:
        candidates = candidates.filter(pk__lte=last)
    total = candidates.count()
    if total == 0:
        sys.exit("no members in this database: load a register first (bench/load_scale.py)")
    step = max(total // count, 1)
    ids = list(candidates.values_list("pk", flat=True)[: step * count : step])
    encoded = make_password(SECRET)
    signer = signing.get_cookie_signer(salt=device_cookie + DEVICE_SALT)
    expires = timezone.now() + dt.timedelta(days=settings.IDENTITY_DEVICE_DAYS)
    people = []
    for member in Member.objects.filter(pk__in=ids).order_by("pk"):
        account, _ = Account.objects.update_or_create(
            member=member,
            defaults={
                "secret_code_hash": encoded,
                "must_change_code": False,
                "status": Account.Status.ACTIVE,
                "activated_at": timezone.now(),
            },
        )
        device_id = f"bench-load-browser-{member.pk}"
        KnownDevice.objects.update_or_create(
            account=account,
            device_hash=device_hash_for(device_id, kind="web"),
            defaults={"expires_at": expires, "label": "Firefox, Linux"},
        )
        people.append(
            {
                "member_id": member.pk,
                "nir": member.nir,
                "secret": SECRET,
                "device_cookie": signer.sign(device_id),
            }
        )
    return people


def earlier_runs_forget(member_ids: list[object]) -> tuple[int, int]:
    """Deletes the threads and certificates of the simulated members, on a bench database only."""
    from django.db import connection

    from assure.documents.models import Certificate
    from assure.messaging.models import Thread

    if not str(connection.settings_dict["NAME"]).startswith("assure_bench"):
        return (0, 0)
    threads, _ = Thread.objects.filter(member_id__in=member_ids).delete()
    certificates, _ = Certificate.objects.filter(member_id__in=member_ids).delete()
    return threads, certificates


def advisors(count: int) -> list[dict[str, object]]:
    import pyotp
    from django.contrib.auth.models import User

    from assure.backoffice import services
    from assure.backoffice.models import StaffProfile
    from assure.core.services import Actor

    actor = Actor.system("bench/locust/prepare.py")
    people: list[dict[str, object]] = []
    for k in range(count):
        username = f"banc.conseiller{k + 1}"
        profile = StaffProfile.objects.filter(user__username=username).first()
        if profile is None or profile.totp_enabled_at is None:
            user = User.objects.filter(username=username).first()
            if user is None:
                user, token = services.staff_create(
                    username=username,
                    role="advisor",
                    actor=actor,
                    first_name="Conseiller",
                    last_name=f"Banc {k + 1}",
                )
            else:
                token = services.enrolment_link_issue(user=user, actor=actor)
            secret = services.enrolment_totp_secret(services.enrolment_get(token))
            # The code of the previous time step: the sign-ins of the next seconds stay possible
            # (a code is accepted once; a step later than the last accepted one is required).
            code = pyotp.TOTP(secret).at(time.time() - 30)
            services.enrolment_complete(token=token, password=ADVISOR_PASSWORD, code=code)
            profile = StaffProfile.objects.get(user__username=username)
        people.append(
            {"username": username, "password": ADVISOR_PASSWORD, "totp": profile.totp_secret}
        )
    return people


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--members", type=int, default=200)
    parser.add_argument("--advisors", type=int, default=8)
    parser.add_argument("--out", type=Path, required=True)
    args = parser.parse_args()
    _setup()
    from django.conf import settings

    from assure.messaging.models import Subject

    started = time.perf_counter()
    people = members(args.members, settings.IDENTITY_DEVICE_COOKIE)
    forgotten = earlier_runs_forget([person["member_id"] for person in people])
    data = {
        "device_cookie": settings.IDENTITY_DEVICE_COOKIE,
        "members": people,
        "advisors": advisors(args.advisors),
        "subjects": list(Subject.objects.filter(active=True).values_list("code", flat=True)),
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(data, indent=1), encoding="utf-8")
    print(
        f"{len(data['members'])} members, {len(data['advisors'])} advisors → {args.out}; "
        f"earlier runs' rows removed: {forgotten[0]:,} (threads and their messages), "
        f"{forgotten[1]:,} (certificates) "
        f"({time.perf_counter() - started:.1f} s)"
    )


if __name__ == "__main__":
    main()
