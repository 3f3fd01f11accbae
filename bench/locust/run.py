"""The member and advisor mix under Locust against a whole cluster, with its "hello" baseline.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/assure_bench_load \\
    REDIS_URL=redis://127.0.0.1:6379/7 \\
        .venv/bin/python bench/locust/run.py --run-time 2m --users 20

    ... --soak 30m        # the mix alone for 30 minutes: memory and connections, start and end

Starts deploy/cluster.py's cluster (nginx with TLS, `--web` gunicorn processes of
`--gunicorn-workers` each, `--workers` task workers, on PostgreSQL and Redis) on the database
named in DATABASE_URL (which must start with assure_bench: the bench writes accounts, messages and
certificates into it; load it with bench/load_scale.py), then the baseline beside it: the bare
Django project bench/hello behind an nginx rendered from the same site configuration, with the
same gunicorn settings and as many processes. bench/locust/prepare.py sets up the simulated
people. Then, in one run, `--rounds` times: Locust headless on the baseline, then on the mix, each
for `--run-time` with `--users` simulated people (no think time unless `--think`: saturated).

Prints, per endpoint, requests, failures, req/s, p50/p95/p99 (Locust's CSV statistics of the
last round; the req/s of all rounds), the ratio mix ÷ hello, and whether each goal of issue 10
holds: no error, p99 ≤ 5 x p50 for every endpoint, mix ≥ 0.1 x hello. With --soak, the resident
memory of every gunicorn and worker process and PostgreSQL's connections to the database, after a
warm-up minute and at the end (goals: memory growth < 10 %, connections not growing).

Ports: nginx of the cluster on --port (HTTPS) and --port+1 (HTTP), the baseline's nginx on
--port+2 and +3, its gunicorn processes from --port+4. Files in --work (default
var/bench/locust/): people.json, the CSV statistics, the logs of each process.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import os
import platform
import re
import signal
import ssl
import statistics
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import psycopg

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from deploy.cluster import (  # noqa: E402
    GUNICORN_CONF,
    HOST,
    Cluster,
    Process,
    nginx_binary,
    nginx_test,
    write_nginx_config,
)

HERE = Path(__file__).resolve().parent
# Processes of the cluster found dead while Locust ran (name, status, end of the log).
DEAD: list[str] = []
# Fixed, so that the device cookies written by prepare.py stay valid from one run to the next.
BENCH_SECRET_KEY = "bench-locust-secret-key-not-for-production-0123456789abcdef"  # noqa: S105


def duration(text: str) -> float:
    """Seconds in "90", "90s", "3m", "1h30m"."""
    match = re.fullmatch(r"(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s?)?", text.strip())
    if not match or not any(match.groups()):
        raise argparse.ArgumentTypeError(f"not a duration: {text!r}")
    hours, minutes, seconds = (int(g or 0) for g in match.groups())
    return float(hours * 3600 + minutes * 60 + seconds)


def now() -> str:
    return time.strftime("%H:%M:%S", time.gmtime())


def _status(url: str, ca_file: Path) -> int:
    context = ssl.create_default_context(cafile=str(ca_file))
    try:
        with urllib.request.urlopen(url, timeout=5, context=context) as answer:  # noqa: S310
            return int(answer.status)
    except urllib.error.HTTPError as error:
        return int(error.code)
    except (OSError, ssl.SSLError):
        return 0


class Hello:
    """bench/hello behind an nginx rendered from the cluster's site, with the same gunicorn."""

    def __init__(self, cluster: Cluster, *, port: int, processes: int, directory: Path) -> None:
        self.cluster, self.port, self.directory = cluster, port, directory
        self.web_ports = [port + 2 + k for k in range(processes)]
        self.url = f"https://{HOST}:{port}"
        self.processes: list[Process] = []

    def start(self) -> Hello:
        log_dir = self.directory / "logs"
        log_dir.mkdir(parents=True, exist_ok=True)
        main = write_nginx_config(
            self.directory / "nginx",
            https_port=self.port,
            http_port=self.port + 1,
            web_ports=self.web_ports,
            certificate=self.cluster.tls_dir / "server.pem",
            certificate_key=self.cluster.tls_dir / "server.key",
            static_root=self.cluster.static_root,
            log_dir=log_dir,
        )
        checked = nginx_test(main)
        if checked.returncode != 0:
            raise SystemExit(f"hello: nginx -t failed:\n{checked.stderr}")
        env = {
            **self.cluster.env,
            "DJANGO_SETTINGS_MODULE": "hello.settings",
            "ASSURE_METRICS_DIR": str(self.directory / "metrics"),
            "PYTHONPATH": os.pathsep.join([str(ROOT / "bench"), str(ROOT)]),
        }
        for number, web_port in enumerate(self.web_ports, start=1):
            argv = [sys.executable, "-m", "gunicorn", "--config", str(GUNICORN_CONF)]
            argv += ["--bind", f"{HOST}:{web_port}"]
            if self.cluster.gunicorn_workers:
                argv += ["--workers", str(self.cluster.gunicorn_workers)]
            argv.append("hello.wsgi:application")
            self.processes.append(
                Process(
                    f"hello-web-{number}",
                    argv,
                    env,
                    log_dir / f"hello-web-{number}.log",
                    signal.SIGTERM,
                )
            )
        nginx = [nginx_binary() or "nginx", "-p", str(self.directory / "nginx"), "-c", str(main)]
        self.processes.append(
            Process(
                "hello-nginx",
                [*nginx, "-e", "stderr"],
                env,
                log_dir / "nginx.log",
                signal.SIGQUIT,
            )
        )
        deadline = time.monotonic() + 60
        while _status(self.url + "/", self.cluster.ca_file) != 200:
            for process in self.processes:
                if not process.running():
                    raise SystemExit(f"{process.name} exited:\n{process.output()}")
            if time.monotonic() > deadline:
                raise SystemExit(f"hello: {self.url}/ did not answer 200; logs in {log_dir}")
            time.sleep(0.25)
        return self

    def stop(self) -> None:
        for process in reversed(self.processes):
            process.signal(process.stop_signal)
        for process in self.processes:
            try:
                process.popen.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.signal(signal.SIGKILL)
                process.popen.wait(timeout=10)
            process.close()


def locust(
    host: str, classes: list[str], *, users: int, seconds: float, csv_prefix: Path, env: dict
) -> None:
    command = [
        str(ROOT / ".venv" / "bin" / "locust"),
        "-f",
        str(HERE / "locustfile.py"),
        "--headless",
        "--only-summary",
        "--users",
        str(users),
        "--spawn-rate",
        str(max(users / 5, 1)),
        "--run-time",
        f"{int(seconds)}s",
        "--stop-timeout",
        "10",
        "--host",
        host,
        "--csv",
        str(csv_prefix),
        "--exit-code-on-error",
        "0",
        *classes,
    ]
    print(f"{now()} {' '.join(command[1:])}", flush=True)
    done = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    if DEAD:
        raise SystemExit("a process of the cluster died during the run:\n" + "\n".join(DEAD))
    (csv_prefix.parent / f"{csv_prefix.name}.log").write_text(done.stdout + done.stderr)
    if done.returncode != 0:
        raise SystemExit(f"locust exited with {done.returncode}:\n{done.stderr[-3000:]}")


def read_stats(csv_prefix: Path) -> dict[str, dict[str, float]]:
    stats: dict[str, dict[str, float]] = {}
    with (csv_prefix.parent / f"{csv_prefix.name}_stats.csv").open(encoding="utf-8") as data:
        for row in csv.DictReader(data):
            name = row["Name"] if row["Type"] else "all"
            stats[name] = {
                "count": float(row["Request Count"]),
                "failures": float(row["Failure Count"]),
                "rps": float(row["Requests/s"]),
                "p50": float(row["50%"] or 0),
                "p95": float(row["95%"] or 0),
                "p99": float(row["99%"] or 0),
            }
    return stats


def failures(csv_prefix: Path) -> list[str]:
    path = csv_prefix.parent / f"{csv_prefix.name}_failures.csv"
    if not path.exists():
        return []
    with path.open(encoding="utf-8") as data:
        return [f"{r['Name']}: {r['Error']} x{r['Occurrences']}" for r in csv.DictReader(data)]


# --- where the machine's processor time goes ----------------------------------------------------

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def _group(pid: int) -> str | None:
    """The part of the run a process belongs to, from its command line."""
    try:
        argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except OSError:
        return None
    command = b" ".join(argv).decode(errors="replace")
    program = Path(argv[0].decode(errors="replace")).name if argv and argv[0] else ""
    if "gunicorn" in command:
        return "hello: gunicorn" if "hello.wsgi" in command else "assure: gunicorn"
    if program.startswith("nginx") or command.startswith("nginx"):
        return "nginx (both)"
    if program.startswith("postgres") or command.startswith("postgres"):
        return "PostgreSQL"
    if "redis-server" in command:
        return "Redis"
    if " worker" in command and "assure" in command:
        return "task workers"
    return None


def process_seconds(pid: int) -> float:
    """User and system time of a process and of its children it has waited for (a gunicorn
    worker replaced, a PostgreSQL backend ended, count with their parent once gone); 0 if gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return 0.0
    return sum(int(value) for value in fields[11:15]) / CLOCK_TICKS


def cpu_sample() -> dict[str, float]:
    """Processor seconds used so far, by part of the run; "Locust" is this script's finished
    children (only Locust ends during a phase); "machine" counts every non-idle tick."""
    seconds: dict[str, float] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            group = _group(int(entry.name))
            if group is not None:
                seconds[group] = seconds.get(group, 0.0) + process_seconds(int(entry.name))
    times = os.times()
    seconds["Locust"] = times.children_user + times.children_system
    fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + fields[4]  # idle and iowait
    seconds["machine"] = (sum(fields[:8]) - idle) / CLOCK_TICKS
    return seconds


def cpu_report(title: str, before: dict[str, float], after: dict[str, float], requests: float):
    """Prints the processor milliseconds per request of each part, between two samples."""
    if not requests:
        return
    used = {k: after.get(k, 0.0) - before.get(k, 0.0) for k in after}
    machine = used.pop("machine")
    parts = sorted(((v, k) for k, v in used.items() if v > 0.005), reverse=True)
    other = machine - sum(v for v, _ in parts)
    listed = ", ".join(f"{k} {1000 * v / requests:.2f}" for v, k in parts)
    print(
        f"{now()} {title}: {1000 * machine / requests:.2f} ms of processor per request "
        f"({listed}, other {1000 * other / requests:.2f})",
        flush=True,
    )


# --- soak: memory and connections --------------------------------------------------------------


def _children(pid: int) -> list[int]:
    found = []
    with contextlib.suppress(OSError):
        for task in Path(f"/proc/{pid}/task").iterdir():
            text = (task / "children").read_text()
            found += [int(p) for p in text.split()]
    return found


def _tree(pid: int) -> Iterator[int]:
    yield pid
    for child in _children(pid):
        yield from _tree(child)


def _rss_kib(pid: int) -> int:
    with contextlib.suppress(OSError):
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


def memory(cluster: Cluster) -> dict[str, int]:
    """RSS in KiB of each gunicorn and worker process (masters and their children)."""
    sizes: dict[str, int] = {}
    for process in cluster.processes:
        if process.name.startswith("nginx"):
            continue
        for k, pid in enumerate(_tree(process.pid)):
            sizes[f"{process.name}/{'master' if k == 0 else pid}"] = _rss_kib(pid)
    return sizes


def connections(url: str) -> int:
    name = urlsplit(url).path.lstrip("/")
    with psycopg.connect(url, autocommit=True) as conn:
        row = conn.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
            [name],
        ).fetchone()
    return int(row[0]) if row else 0


def watch(cluster: Cluster, hello: Hello, stop: threading.Event) -> None:
    """Notes any process of the cluster or of the baseline that dies (a crashed gunicorn master
    would otherwise show up as nothing but 502 answers)."""
    seen: set[str] = set()
    while not stop.wait(2.0):
        for process in [*cluster.processes, *hello.processes]:
            if process.name not in seen and not process.running():
                seen.add(process.name)
                DEAD.append(
                    f"{now()} {process.name} exited with {process.popen.returncode}:\n"
                    f"{process.output(2000)}"
                )
                print(DEAD[-1], flush=True)


def soak(cluster: Cluster, url: str, args: argparse.Namespace, env: dict) -> bool:
    prefix = args.work / "soak"
    samples: dict[str, tuple[dict[str, int], int]] = {}

    def sample_after(label: str, delay: float) -> None:
        time.sleep(delay)
        samples[label] = (memory(cluster), connections(url))

    warm_up = min(60.0, args.soak / 4)
    start = threading.Thread(target=sample_after, args=("start", warm_up), daemon=True)
    start.start()
    locust(
        cluster.url,
        ["Member", "Advisor"],
        users=args.users,
        seconds=args.soak,
        csv_prefix=prefix,
        env=env,
    )
    start.join()
    samples["end"] = (memory(cluster), connections(url))
    stats = read_stats(prefix)
    print_table("mix (soak)", stats)
    mem_start, conn_start = samples["start"]
    mem_end, conn_end = samples["end"]
    total_start, total_end = sum(mem_start.values()), sum(mem_end.values())
    growth = total_end / total_start - 1 if total_start else 0.0
    print()
    print(f"processes at start ({len(mem_start)}): {_sizes(mem_start)}")
    print(f"processes at end ({len(mem_end)}): {_sizes(mem_end)}")
    print(
        f"resident memory of gunicorn and workers: {total_start / 1024:,.0f} MiB after "
        f"{warm_up:.0f} s → {total_end / 1024:,.0f} MiB at the end ({growth:+.1%})"
    )
    print(f"PostgreSQL connections to the database: {conn_start} → {conn_end}")
    errors = stats.get("all", {}).get("failures", 0)
    goals = [
        ("no error", errors == 0, f"{errors:.0f} failures"),
        ("memory growth < 10 %", growth < 0.10, f"{growth:+.1%}"),
        ("no connection leak", conn_end <= conn_start, f"{conn_start} → {conn_end}"),
    ]
    return report_goals(goals)


def _sizes(sizes: dict[str, int]) -> str:
    return ", ".join(f"{name} {kib / 1024:.0f}" for name, kib in sorted(sizes.items())) + " MiB"


# --- report --------------------------------------------------------------------------------------


def print_table(title: str, stats: dict[str, dict[str, float]]) -> None:
    print()
    print(f"{title}:")
    print("| endpoint | requests | failures | req/s | p50 ms | p95 ms | p99 ms | p99 ÷ p50 |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    for name, s in sorted(stats.items(), key=lambda item: (item[0] == "all", item[0])):
        ratio = s["p99"] / s["p50"] if s["p50"] else 0.0
        print(
            f"| {name} | {s['count']:.0f} | {s['failures']:.0f} | {s['rps']:.1f} | "
            f"{s['p50']:.0f} | {s['p95']:.0f} | {s['p99']:.0f} | {ratio:.1f} |"
        )


def report_goals(goals: list[tuple[str, bool, str]]) -> bool:
    print()
    for name, held, detail in goals:
        print(f"{'met' if held else 'NOT MET'}: {name} ({detail})")
    return all(held for _, held, _ in goals)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--run-time", type=duration, default=120.0, help="each phase (e.g. 2m)")
    parser.add_argument("--rounds", type=int, default=1, help="hello then mix, this many times")
    parser.add_argument("--users", type=int, default=20, help="simulated people at once")
    parser.add_argument("--members", type=int, default=200, help="member accounts used")
    parser.add_argument("--advisors", type=int, default=8, help="advisor accounts used")
    parser.add_argument("--web", type=int, default=2, help="gunicorn processes (each side)")
    parser.add_argument("--gunicorn-workers", type=int, default=2, help="workers per gunicorn")
    parser.add_argument("--workers", type=int, default=1, help="task workers")
    parser.add_argument(
        "--think", type=float, default=0.0, help="seconds between two pages of one person"
    )
    parser.add_argument("--port", type=int, default=8600)
    parser.add_argument("--soak", type=duration, default=0.0, help="soak run instead (e.g. 30m)")
    parser.add_argument("--work", type=Path, default=ROOT / "var" / "bench" / "locust")
    args = parser.parse_args()
    args.work = args.work.resolve()
    url = os.environ.get("DATABASE_URL", "")
    redis = os.environ.get("REDIS_URL", "")
    name = urlsplit(url).path.lstrip("/")
    if not url.startswith("postgres") or not name.startswith("assure_bench"):
        sys.exit("DATABASE_URL must name a PostgreSQL database assure_bench* (bench/load_scale.py)")
    args.work.mkdir(parents=True, exist_ok=True)

    cluster = Cluster(
        web=args.web,
        workers=args.workers,
        port=args.port,
        http_port=args.port + 1,
        database_url=url,
        redis_url=redis,
        email_url="",
        gunicorn_workers=args.gunicorn_workers,
        directory=args.work / "cluster",
        env={"SECRET_KEY": BENCH_SECRET_KEY, "ASSURE_LOG_LEVEL": "WARNING"},
    )
    hello = Hello(cluster, port=args.port + 2, processes=args.web, directory=args.work / "hello")
    print(
        f"{now()} machine: {platform.node()}, {os.cpu_count()} cores, load "
        f"{os.getloadavg()[0]:.1f}; database {name}; {args.web} gunicorn x "
        f"{args.gunicorn_workers} workers each side; {args.users} simulated people, "
        f"think time {args.think} s",
        flush=True,
    )

    def on_term(signum: int, frame: object) -> None:
        raise SystemExit(f"stopped by signal {signum}")  # unwinds: Locust, baseline, cluster

    signal.signal(signal.SIGTERM, on_term)
    stop_watch = threading.Event()
    with cluster:
        hello.start()
        threading.Thread(target=watch, args=(cluster, hello, stop_watch), daemon=True).start()
        try:
            people = args.work / "people.json"
            subprocess.run(
                [
                    sys.executable,
                    str(HERE / "prepare.py"),
                    "--members",
                    str(args.members),
                    "--advisors",
                    str(args.advisors),
                    "--out",
                    str(people),
                ],
                env=cluster.env,
                check=True,
            )
            env = {
                **os.environ,
                "ASSURE_LOCUST_PEOPLE": str(people),
                "ASSURE_LOCUST_THINK": str(args.think),
            }
            held = soak(cluster, url, args, env) if args.soak else rounds(cluster, hello, args, env)
        finally:
            stop_watch.set()
            hello.stop()
    print(f"{now()} load average at the end: {os.getloadavg()[0]:.1f}")
    sys.exit(0 if held else 1)


def rounds(cluster: Cluster, hello: Hello, args: argparse.Namespace, env: dict) -> bool:
    hello_rps: list[float] = []
    mix_rps: list[float] = []
    errors: list[str] = []
    for k in range(1, args.rounds + 1):
        base = args.work / f"hello-{k}"
        cpu_before = cpu_sample()
        locust(
            hello.url, ["Hello"], users=args.users, seconds=args.run_time, csv_prefix=base, env=env
        )
        cpu_report("hello", cpu_before, cpu_sample(), read_stats(base)["all"]["count"])
        mix = args.work / f"mix-{k}"
        cpu_before = cpu_sample()
        locust(
            cluster.url,
            ["Member", "Advisor"],
            users=args.users,
            seconds=args.run_time,
            csv_prefix=mix,
            env=env,
        )
        hello_stats, mix_stats = read_stats(base), read_stats(mix)
        cpu_report("mix", cpu_before, cpu_sample(), mix_stats["all"]["count"])
        hello_rps.append(hello_stats["all"]["rps"])
        mix_rps.append(mix_stats["all"]["rps"])
        errors += failures(base) + failures(mix)
        print(
            f"{now()} round {k}: hello {hello_rps[-1]:,.1f} req/s, mix {mix_rps[-1]:,.1f} req/s, "
            f"ratio {mix_rps[-1] / hello_rps[-1]:.3f}, load {os.getloadavg()[0]:.1f}",
            flush=True,
        )
    print_table("hello (last round)", hello_stats)
    print_table("mix (last round)", mix_stats)
    if errors:
        print("\nfailures:\n" + "\n".join(errors))
    ratios = [m / h for m, h in zip(mix_rps, hello_rps, strict=True) if h]
    ratio = statistics.median(ratios) if ratios else 0.0
    print(
        f"\nmix ÷ hello: median {ratio:.3f} over {len(ratios)} round(s) "
        f"({', '.join(f'{r:.3f}' for r in ratios)})"
    )
    failed = sum(s["failures"] for s in (hello_stats["all"], mix_stats["all"]))
    tails = [
        (name, s["p99"] / s["p50"]) for name, s in mix_stats.items() if name != "all" and s["p50"]
    ]
    worst = max(tails, key=lambda t: t[1]) if tails else ("-", 0.0)
    goals = [
        ("no error", not errors and failed == 0, f"{len(errors)} kinds of failure"),
        ("p99 ≤ 5 x p50 for every endpoint", worst[1] <= 5, f"worst {worst[0]}: {worst[1]:.1f}"),
        ("mix ≥ 0.1 x hello", ratio >= 0.1, f"{ratio:.3f}"),
    ]
    return report_goals(goals)


if __name__ == "__main__":
    main()
