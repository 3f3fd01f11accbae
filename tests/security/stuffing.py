"""The attacker of tests/security/test_credential_stuffing.py, run as a process of its own so that
its threads never hold the measuring process's interpreter lock.

Reads {"base", "door", "threads", "attempts": [[address, nir, code], ...]} from the JSON file named
on the command line, tries
every attempt through the web form or the API, and prints {"outcomes": {"outcome": count, ...},
"stopped_at": the wall-clock time of the first attempt refused by a limit, or null}.
"""

from __future__ import annotations

import json
import re
import sys
import threading
import time
from collections import Counter

import requests


class Door:
    """One client of the site, speaking from `address` (the trusted proxy's X-Forwarded-For)."""

    def __init__(self, base: str, address: str) -> None:
        self.base = base
        self.http = requests.Session()
        self.http.headers["X-Forwarded-For"] = address

    def try_login(self, nir: str, code: str) -> str:
        """'invalid', 'locked' (the NIR), 'blocked' (the address) or 'passed'."""
        raise NotImplementedError


class ApiDoor(Door):
    def try_login(self, nir: str, code: str) -> str:
        response = self.http.post(
            f"{self.base}/api/v1/auth/login",
            json={"nir": nir, "secret_code": code},
            timeout=60,
        )
        return {401: "invalid", 423: "locked", 429: "blocked", 200: "passed"}[response.status_code]


class WebDoor(Door):
    TOKEN = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')

    def __init__(self, base: str, address: str) -> None:
        super().__init__(base, address)
        page = self.http.get(f"{base}/connexion/", timeout=60)
        found = self.TOKEN.search(page.text)
        assert found, page.text[:500]
        self.token = found.group(1)

    def try_login(self, nir: str, code: str) -> str:
        response = self.http.post(
            f"{self.base}/connexion/",
            data={"csrfmiddlewaretoken": self.token, "nir": nir, "secret_code": code},
            allow_redirects=False,
            timeout=60,
        )
        if response.status_code == 302:
            return "passed"
        assert response.status_code == 200, response.status_code
        text = response.text
        if "depuis cette adresse" in text:
            return "blocked"
        if "essais infructueux" in text:
            return "locked"
        assert "incorrect" in text, text[:2000]
        return "invalid"


DOORS = {"api": ApiDoor, "web": WebDoor}


def attack(
    base: str, door: str, attempts: list[list[str]], threads: int
) -> tuple[Counter, float | None]:
    outcomes: Counter = Counter()
    stopped: list[float] = []
    lock = threading.Lock()
    queue = iter(attempts)
    doors: dict[tuple[int, str], Door] = {}
    errors: list[BaseException] = []

    def run(worker: int) -> None:
        try:
            while True:
                with lock:
                    attempt = next(queue, None)
                if attempt is None:
                    return
                address, nir, code = attempt
                client = doors.get((worker, address))
                if client is None:
                    client = doors[(worker, address)] = DOORS[door](base, address)
                outcome = client.try_login(nir, code)
                with lock:
                    outcomes[outcome] += 1
                    if outcome in {"blocked", "locked"} and not stopped:
                        stopped.append(time.time())
        except BaseException as exc:
            errors.append(exc)

    workers = [threading.Thread(target=run, args=(n,)) for n in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    if errors:
        raise errors[0]
    return outcomes, (stopped[0] if stopped else None)


if __name__ == "__main__":
    with open(sys.argv[1], encoding="utf-8") as source:
        spec = json.load(source)
    outcomes, stopped_at = attack(spec["base"], spec["door"], spec["attempts"], spec["threads"])
    print(json.dumps({"outcomes": outcomes, "stopped_at": stopped_at}))
