"""The member and advisor mix of issue 10, and the bare "hello" baseline, for Locust.

    ASSURE_LOCUST_PEOPLE=var/bench/locust/people.json \\
        locust -f bench/locust/locustfile.py --headless -u 20 -r 5 --run-time 2m \\
        --host http://127.0.0.1:8600 Member Advisor

    locust -f bench/locust/locustfile.py --headless -u 20 -r 5 --run-time 2m \\
        --host http://127.0.0.1:8601 Hello

bench/locust/run.py starts the cluster and runs both in one go; bench/locust/prepare.py writes
the people file (members with a trusted browser, enrolled advisors). Every answer is checked: a
status other than the one expected, or a page without what it must show, is a failure.
"""

from __future__ import annotations

import itertools
import json
import os
import random
import re
import threading
import time
from typing import Any
from urllib.parse import urlsplit

import pyotp
from locust import FastHttpUser, constant, task
from requests.cookies import create_cookie

CSRF = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
CERTIFICATE_LINK = re.compile(r'href="(/mes-attestations/\d+/telecharger/)"')
# Think time between two pages of one simulated person (0 for a saturating run).
THINK = float(os.environ.get("ASSURE_LOCUST_THINK", "0"))
CATEGORIES = ["consultation", "pharmacy", "paramedical", "laboratory", "dental", "hospital"]


def _people() -> dict[str, Any]:
    path = os.environ.get("ASSURE_LOCUST_PEOPLE", "var/bench/locust/people.json")
    with open(path, encoding="utf-8") as data:
        return dict(json.load(data))


class _Pool:
    """Hands each simulated person a different account, round robin."""

    def __init__(self, key: str) -> None:
        self.key = key
        self.lock = threading.Lock()
        self.people: list[dict[str, Any]] | None = None
        self.cycle: Any = None

    def take(self) -> dict[str, Any]:
        with self.lock:
            if self.cycle is None:
                self.people = _people()[self.key]
                self.cycle = itertools.cycle(self.people)
            return dict(next(self.cycle))

    def all(self) -> list[dict[str, Any]]:
        self.take()
        return self.people or []


MEMBERS = _Pool("members")
ADVISORS = _Pool("advisors")


def _csrf(text: str) -> str:
    found = CSRF.search(text)
    return found.group(1) if found else ""


class _Checked(FastHttpUser):
    abstract = True
    wait_time = constant(THINK)

    def get(self, path: str, name: str, expect: int = 200, contains: str = "") -> str:
        with self.client.get(path, name=name, allow_redirects=False, catch_response=True) as answer:
            text = answer.text or ""
            if answer.status_code != expect:
                answer.failure(f"status {answer.status_code}, expected {expect}")
            elif contains and contains not in text:
                answer.failure(f"page without {contains!r}")
            return text

    def post(
        self, path: str, data: dict[str, Any], name: str, redirect_prefix: str, referer: str
    ) -> str:
        """A form posted; success is a redirect to a page starting with `redirect_prefix`."""
        with self.client.post(
            path,
            data=data,
            name=name,
            allow_redirects=False,
            catch_response=True,
            headers={"Referer": self.host.rstrip("/") + referer},
        ) as answer:
            location = answer.headers.get("Location", "") if answer.headers else ""
            if answer.status_code != 302 or not location.startswith(redirect_prefix):
                answer.failure(f"status {answer.status_code}, location {location!r}")
                return ""
            return str(location)


class Member(_Checked):
    """A member on a browser the portal already knows: NIR and secret code, no second step."""

    weight = 4

    def on_start(self) -> None:
        person = MEMBERS.take()
        self.person = person
        self.subjects = _people()["subjects"]
        host = urlsplit(self.host).hostname or ""
        self.client.cookiejar.set_cookie(
            create_cookie(_people()["device_cookie"], person["device_cookie"], domain=host)
        )
        page = self.get("/connexion/", "member: login page", contains="csrfmiddlewaretoken")
        data = {
            "nir": person["nir"],
            "secret_code": person["secret"],
            "csrfmiddlewaretoken": _csrf(page),
        }
        self.post("/connexion/", data, "member: login (known device)", "/", "/connexion/")

    @task(4)
    def home(self) -> None:
        self.get("/", "member: Accueil", contains="Mes paiements")

    @task(3)
    def payments(self) -> None:
        self.get("/mes-paiements/", "member: Mes paiements")

    @task(3)
    def payments_filtered(self) -> None:
        today = time.gmtime()
        year = today.tm_year - random.randint(0, 1)
        query = random.choice(
            [
                f"category={random.choice(CATEGORIES)}",
                "status=paid",
                f"start=01/01/{year}&end=31/12/{year}",
                f"category={random.choice(CATEGORIES)}&status=paid&start=01/01/{year}",
            ]
        )
        self.get(f"/mes-paiements/?{query}", "member: Mes paiements (filtres)")

    @task(1)
    def certificate(self) -> None:
        form = self.get(
            "/mes-attestations/nouvelle/droits/",
            "member: attestation (formulaire)",
            contains="csrfmiddlewaretoken",
        )
        data = {"csrfmiddlewaretoken": _csrf(form)}
        if not self.post(
            "/mes-attestations/nouvelle/droits/",
            data,
            "member: attestation (émission)",
            "/mes-attestations/",
            "/mes-attestations/nouvelle/droits/",
        ):
            return
        listing = self.get("/mes-attestations/", "member: Mes attestations")
        link = CERTIFICATE_LINK.search(listing)
        if link is None:
            return
        with self.client.get(
            link.group(1), name="member: attestation (PDF)", catch_response=True
        ) as pdf:
            if pdf.status_code != 200 or not (pdf.content or b"").startswith(b"%PDF"):
                pdf.failure(f"status {pdf.status_code}, not a PDF")

    @task(1)
    def message(self) -> None:
        form = self.get(
            "/ma-messagerie/nouveau/",
            "member: message (formulaire)",
            contains="csrfmiddlewaretoken",
        )
        data = {
            "csrfmiddlewaretoken": _csrf(form),
            "subject": random.choice(self.subjects),
            "body": "Bonjour, je n'ai pas reçu le remboursement de ma consultation. Merci.",
        }
        self.post(
            "/ma-messagerie/nouveau/",
            data,
            "member: message (envoi)",
            "/ma-messagerie/",
            "/ma-messagerie/nouveau/",
        )


class Advisor(_Checked):
    """An advisor: password and authenticator code, then the queue and members' files."""

    weight = 1

    def on_start(self) -> None:
        person = ADVISORS.take()
        self.members = [m["member_id"] for m in MEMBERS.all()]
        page = self.get("/backoffice/connexion/", "advisor: login page")
        data = {
            "username": person["username"],
            "password": person["password"],
            "csrfmiddlewaretoken": _csrf(page),
        }
        if not self.post(
            "/backoffice/connexion/",
            data,
            "advisor: login (password)",
            "/backoffice/connexion/code/",
            "/backoffice/connexion/",
        ):
            return
        totp = pyotp.TOTP(person["totp"])
        page = self.get("/backoffice/connexion/code/", "advisor: login (code page)")
        # A code is accepted once per 30-second step: a second advisor on the same account (more
        # simulated advisors than accounts) waits for the next step.
        for _attempt in range(3):
            data = {"code": totp.now(), "csrfmiddlewaretoken": _csrf(page)}
            with self.client.post(
                "/backoffice/connexion/code/",
                data=data,
                name="advisor: login (TOTP)",
                allow_redirects=False,
                catch_response=True,
                headers={"Referer": self.host.rstrip("/") + "/backoffice/connexion/code/"},
            ) as answer:
                if answer.status_code == 302:
                    return
                if _attempt == 2:
                    answer.failure(f"status {answer.status_code}")
                else:
                    answer.success()  # a used code: not an error of the server
                page = answer.text or page
            time.sleep(31 - time.time() % 30)

    @task(3)
    def queue(self) -> None:
        self.get("/backoffice/messagerie/", "advisor: file d'attente")

    @task(2)
    def member_file(self) -> None:
        member_id = random.choice(self.members)
        path = f"/backoffice/membres/{member_id}/"
        form = self.get(path, "advisor: dossier (motif)", contains="csrfmiddlewaretoken")
        data = {"reason": "phone", "detail": "", "csrfmiddlewaretoken": _csrf(form)}
        if self.post(path, data, "advisor: dossier (motif envoyé)", path, path):
            self.get(path, "advisor: dossier membre")


class Hello(FastHttpUser):
    """The baseline: a bare Django view behind the same nginx and gunicorn."""

    wait_time = constant(THINK)

    @task
    def hello(self) -> None:
        with self.client.get("/", name="hello", catch_response=True) as answer:
            if answer.status_code != 200 or answer.text != "hello":
                answer.failure(f"status {answer.status_code}")
