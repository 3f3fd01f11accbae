"""CPU per request of the Locust mix, in one process: no nginx, gunicorn or HTTP client (issue 10).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/assure_bench_load \\
    REDIS_URL=redis://127.0.0.1:6379/7 \\
        .venv/bin/python bench/mix_cpu.py --requests 800 --rounds 3 [--profile var/bench/mix.prof]

The Locust run (bench/locust/run.py) says how many mix requests the whole machine serves; this
says where the web process's share goes, with far less noise: the same people (set up by
bench/locust/prepare.py, on a database loaded by bench/load_scale.py) do the same tasks in the
same proportions as bench/locust/locustfile.py, through Django's test client with
ASSURE_ENV=production settings, CSRF checks on. Each simulated person in turn (16 members and 4
advisors, as Locust's weights 4:1 give for 20 users) does its next task, drawn with the
locustfile's weights from a fixed seed: two runs of the same code do the same requests.

Prints, per round, the CPU time (time.process_time) per request of the mix, and per endpoint the
median CPU time; at the end the median of the rounds. The work done by the task workers (e-mails,
notices) is not counted, only its queueing. --profile writes cProfile statistics of the last round
(read them with `python -m pstats FILE`). Compare two versions of the code by running this script
from each checkout in turn, several times, on a quiet machine.
"""

from __future__ import annotations

import argparse
import cProfile
import os
import random
import re
import statistics
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench" / "locust"))

CSRF = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
CERTIFICATE_LINK = re.compile(r'href="(/mes-attestations/\d+/telecharger/)"')
CATEGORIES = ["consultation", "pharmacy", "paramedical", "laboratory", "dental", "hospital"]
# --show-sql: the statements of the requests whose endpoint name contains this text are printed.
SHOW_SQL = ""
# --profile: the profiler of the last round, switched on around the requests of the endpoints whose
# name contains --profile-only (all of them by default).
PROFILER: cProfile.Profile | None = None
PROFILE_ONLY = ""
BENCH_SECRET_KEY = "bench-mix-cpu-secret-key-not-for-production-0123456789abcdef"  # noqa: S105


def _environment(directory: Path) -> None:
    """The production settings the cluster's web processes run with, on this process."""
    from deploy.cluster import make_certificates

    make_certificates(directory)
    os.environ.update(
        ASSURE_ENV="production",
        SECRET_KEY=BENCH_SECRET_KEY,
        ASSURE_DATA_DIR=str(directory / "data"),
        ALLOWED_HOSTS="testserver",
        CSRF_TRUSTED_ORIGINS="https://testserver",
        ASSURE_SITE_URL="https://testserver",
        ASSURE_TRUSTED_PROXY_COUNT="0",
        ASSURE_SIGNING_KEY=str(directory / "signing.key"),
        ASSURE_SIGNING_CERT=str(directory / "signing.pem"),
        DJANGO_SETTINGS_MODULE="assure.settings",
    )
    for key in ("ASSURE_DEMO", "ASSURE_DEBUG"):
        os.environ.pop(key, None)


class Person:
    """One simulated person: a test client with its cookies, and the tasks of its kind."""

    def __init__(self, data: dict[str, Any], rng: random.Random) -> None:
        from django.test import Client

        self.data = data
        self.rng = rng
        self.client = Client(enforce_csrf_checks=True)
        # (endpoint name, CPU seconds) of every request, in order; SQL statements per endpoint.
        self.timings: list[tuple[str, float]] = []
        self.statements: dict[str, list[int]] = defaultdict(list)

    def request(self, method: str, path: str, name: str, data: Any = None) -> Any:
        from django.db import connection

        statements = [0]

        def count(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
            statements[0] += 1
            if SHOW_SQL and SHOW_SQL in name:
                print(f"    [{name}] {sql[:300]}")
            return execute(sql, params, many, context)

        profiler = PROFILER if PROFILER is not None and PROFILE_ONLY in name else None
        with connection.execute_wrapper(count):
            if profiler is not None:
                profiler.enable()
            started = time.process_time()
            if method == "GET":
                answer = self.client.get(path, secure=True)
            else:
                answer = self.client.post(
                    path, data, secure=True, headers={"Referer": f"https://testserver{path}"}
                )
            self.timings.append((name, time.process_time() - started))
            if profiler is not None:
                profiler.disable()
        self.statements[name].append(statements[0])
        if answer.status_code not in (200, 302):
            raise SystemExit(f"{name}: {method} {path} answered {answer.status_code}")
        return answer

    def form(self, path: str, name: str) -> str:
        page = self.request("GET", path, name).content.decode()
        found = CSRF.search(page)
        if found is None:
            raise SystemExit(f"{name}: no CSRF token on {path}")
        return found.group(1)


class Member(Person):
    TASKS: tuple[tuple[str, int], ...] = (
        ("home", 4),
        ("payments", 3),
        ("payments_filtered", 3),
        ("certificate", 1),
        ("message", 1),
    )

    def sign_in(self, device_cookie: str, subjects: list[str]) -> None:
        self.subjects = subjects
        self.client.cookies[device_cookie] = self.data["device_cookie"]
        token = self.form("/connexion/", "member: login page")
        data = {
            "nir": self.data["nir"],
            "secret_code": self.data["secret"],
            "csrfmiddlewaretoken": token,
        }
        answer = self.request("POST", "/connexion/", "member: login (known device)", data)
        if answer.status_code != 302 or answer["Location"] != "/":
            raise SystemExit("a member could not sign in: run bench/locust/prepare.py's setup")

    def home(self) -> None:
        self.request("GET", "/", "member: Accueil")

    def payments(self) -> None:
        self.request("GET", "/mes-paiements/", "member: Mes paiements")

    def payments_filtered(self) -> None:
        year = time.gmtime().tm_year - self.rng.randint(0, 1)
        category = self.rng.choice(CATEGORIES)
        query = self.rng.choice(
            [
                f"category={category}",
                "status=paid",
                f"start=01/01/{year}&end=31/12/{year}",
                f"category={category}&status=paid&start=01/01/{year}",
            ]
        )
        self.request("GET", f"/mes-paiements/?{query}", "member: Mes paiements (filtres)")

    def certificate(self) -> None:
        path = "/mes-attestations/nouvelle/droits/"
        token = self.form(path, "member: attestation (formulaire)")
        self.request("POST", path, "member: attestation (émission)", {"csrfmiddlewaretoken": token})
        listing = self.request("GET", "/mes-attestations/", "member: Mes attestations")
        link = CERTIFICATE_LINK.search(listing.content.decode())
        if link is not None:
            self.request("GET", link.group(1), "member: attestation (PDF)")

    def message(self) -> None:
        path = "/ma-messagerie/nouveau/"
        token = self.form(path, "member: message (formulaire)")
        data = {
            "csrfmiddlewaretoken": token,
            "subject": self.rng.choice(self.subjects),
            "body": "Bonjour, je n'ai pas reçu le remboursement de ma consultation. Merci.",
        }
        self.request("POST", path, "member: message (envoi)", data)


class Advisor(Person):
    TASKS: tuple[tuple[str, int], ...] = (("queue", 3), ("member_file", 2))

    def sign_in(self, member_ids: list[int]) -> None:
        import pyotp

        self.member_ids = member_ids
        token = self.form("/backoffice/connexion/", "advisor: login page")
        data = {
            "username": self.data["username"],
            "password": self.data["password"],
            "csrfmiddlewaretoken": token,
        }
        self.request("POST", "/backoffice/connexion/", "advisor: login (password)", data)
        for _attempt in range(3):
            token = self.form("/backoffice/connexion/code/", "advisor: login (code page)")
            data = {"code": pyotp.TOTP(self.data["totp"]).now(), "csrfmiddlewaretoken": token}
            answer = self.request("POST", "/backoffice/connexion/code/", "advisor: login", data)
            if answer.status_code == 302:
                return
            time.sleep(31 - time.time() % 30)  # a code is accepted once per 30-second step
        raise SystemExit("an advisor could not sign in")

    def queue(self) -> None:
        self.request("GET", "/backoffice/messagerie/", "advisor: file d'attente")

    def member_file(self) -> None:
        path = f"/backoffice/membres/{self.rng.choice(self.member_ids)}/"
        token = self.form(path, "advisor: dossier (motif)")
        data = {"reason": "phone", "detail": "", "csrfmiddlewaretoken": token}
        self.request("POST", path, "advisor: dossier (motif envoyé)", data)
        self.request("GET", path, "advisor: dossier membre")


def _next_task(person: Person) -> None:
    names = [name for name, _ in person.TASKS]  # type: ignore[attr-defined]
    weights = [weight for _, weight in person.TASKS]  # type: ignore[attr-defined]
    getattr(person, person.rng.choices(names, weights)[0])()


def bench_setup(prefix: str, args: argparse.Namespace) -> tuple[list[Any], list[Any], list[str]]:
    """Django with the production settings in a fresh folder, the static files collected, and
    the people of bench/locust/prepare.py (`args.members`, `args.advisors`) ready, their earlier
    runs' threads and certificates forgotten: (members, advisors, the subjects' codes)."""
    _environment(Path(tempfile.mkdtemp(prefix=prefix)))
    import django
    from django.core.management import call_command

    django.setup()
    call_command("collectstatic", interactive=False, verbosity=0)
    import prepare
    from django.conf import settings

    from assure.messaging.models import Subject

    members = prepare.members(args.members, settings.IDENTITY_DEVICE_COOKIE)
    prepare.earlier_runs_forget([person["member_id"] for person in members])
    advisors = prepare.advisors(args.advisors)
    subjects = list(Subject.objects.filter(active=True).values_list("code", flat=True))
    return members, advisors, subjects


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=800, help="requests per round (about)")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--members", type=int, default=16)
    parser.add_argument("--advisors", type=int, default=4)
    parser.add_argument("--seed", type=int, default=20261127)
    parser.add_argument("--profile", type=Path, help="cProfile statistics of the last round")
    parser.add_argument("--profile-only", default="", help="profile only endpoints named so")
    parser.add_argument("--show-sql", default="", help="print the SQL of endpoints named so")
    args = parser.parse_args()
    global SHOW_SQL, PROFILER, PROFILE_ONLY
    SHOW_SQL, PROFILE_ONLY = args.show_sql, args.profile_only
    if not os.environ.get("DATABASE_URL", "").rsplit("/", 1)[-1].startswith("assure_bench"):
        sys.exit("DATABASE_URL must name a bench database (assure_bench*): this bench writes")

    members_data, advisors_data, subjects = bench_setup("assure-mix-cpu-", args)
    from django.conf import settings
    from run import process_seconds  # bench/locust/run.py: the same reading of /proc

    member_ids = [int(str(person["member_id"])) for person in members_data]

    rng = random.Random(args.seed)
    people: list[Person] = []
    for data in members_data:
        member = Member(data, random.Random(rng.random()))
        member.sign_in(settings.IDENTITY_DEVICE_COOKIE, subjects)
        people.append(member)
    for data in advisors_data:
        advisor = Advisor(data, random.Random(rng.random()))
        advisor.sign_in(member_ids)
        people.append(advisor)
    # A warm-up turn: every page once compiled and cached, as in a worker that has served a while.
    for person in people:
        _next_task(person)

    from django.db import connection

    # One server process for the whole run, so that its time can be read (the web processes
    # reconnect after CONN_MAX_AGE; the cost of connecting is not what this measures).
    connection.settings_dict["CONN_MAX_AGE"] = None
    connection.close()
    with connection.cursor() as cursor:  # the one server process this process talks to
        cursor.execute(
            "SELECT pg_backend_pid()" if connection.vendor == "postgresql" else "SELECT 0"
        )
        server_pid = int(cursor.fetchone()[0])
    per_request: list[float] = []
    server_per_request: list[float] = []
    for round_number in range(1, args.rounds + 1):
        for person in people:
            person.timings.clear()
        server_before = process_seconds(server_pid)
        if args.profile and round_number == args.rounds:
            PROFILER = cProfile.Profile()
        done = 0
        while done < args.requests:
            for person in people:
                before = len(person.timings)
                _next_task(person)
                done += len(person.timings) - before
        if PROFILER is not None:
            args.profile.parent.mkdir(parents=True, exist_ok=True)
            PROFILER.dump_stats(args.profile)
        by_name: dict[str, list[float]] = defaultdict(list)
        statements: dict[str, list[int]] = defaultdict(list)
        for person in people:
            for name, seconds in person.timings:
                by_name[name].append(seconds)
            for name, counts in person.statements.items():
                statements[name] += counts
            person.statements.clear()
        total = sum(sum(values) for values in by_name.values())
        count = sum(len(values) for values in by_name.values())
        per_request.append(total / count)
        server_per_request.append((process_seconds(server_pid) - server_before) / count)
        print(
            f"round {round_number}: {count} requests, {1000 * total / count:.2f} ms CPU/request"
            f" (and PostgreSQL's server process: {1000 * server_per_request[-1]:.2f} ms)"
        )
        for name, values in sorted(by_name.items()):
            print(
                f"    {name:38} {len(values):5}  median {1000 * statistics.median(values):6.2f} ms"
                f"  share {100 * sum(values) / total:5.1f} %"
                f"  SQL {statistics.median(statements[name]):4.0f}"
            )
    print(
        f"median of {args.rounds} rounds: {1000 * statistics.median(per_request):.2f} ms CPU per "
        f"mix request, PostgreSQL's server process "
        f"{1000 * statistics.median(server_per_request):.2f} ms"
        f"{' (with cProfile on in the last round)' if args.profile else ''}"
    )


if __name__ == "__main__":
    main()
