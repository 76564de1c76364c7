"""Requests per second of cyberqms's pages and API against a bare one-row Django view,
served the same way in the same run (issue 14's speed goals).

Loads the demo (`--scale`, default 0.2) into a throw-away data directory, gives the demo's
author a known password (pages, through the real sign-in page) and an API token, then
starts the servers with the product's server settings (granian, WSGI, 1 worker, 8
blocking threads; `--workers` for more): cyberqms itself, and `benchmarks/bare/`, a
minimal Django project whose one view reads one row from the same database engine and
answers JSON. Each URL is driven by `--connections` (16) keep-alive connections for
`--seconds` (5) after a warm-up, and reported as requests per second, p50 and p99 latency,
and the ratio to the bare view's throughput in the same run.

    .venv/bin/python benchmarks/web.py [--seconds 5] [--connections 16] [--scale 0.2]
        [--workers 1] [--env NAME=VALUE ...]
        [--source DIR ...] [--database-url postgresql://... ...]

`--source DIR` serves another source tree's cyberqms (its `DIR/src` ahead of the installed
one on PYTHONPATH, with this checkout's virtual environment, `DIR` as working directory):
its migrations, demo, set-up and server. Repeated, every tree gets its own demo and server
in the same run and each URL is driven on every tree in turn, so a before/after is measured
under the same minute's load against the same bare view; the rows are labelled with each
tree's directory and commit. Issue 14's "before" is the commit before its first change:

    git worktree add /tmp/oldweb 8a2f54d^
    .venv/bin/python benchmarks/web.py --source /tmp/oldweb --source .

SQLite (WAL, in the data directory) is the default. `--database-url` (one per source tree,
in the same order) loads each tree's demo into that PostgreSQL database, which must be empty
(created for the run; web.py leaves its data there), and the bare view reads its one row
from its own table `bare_row` in the first of them, on the same server, so both sides pay
the same round trip and keep their connections open alike (60 s):

    for d in web_before web_after; do psql -h HOST -U postgres -c "create database $d"; done
    .venv/bin/python benchmarks/web.py --source /tmp/oldweb --source . \
        --database-url postgresql://postgres@HOST/web_before \
        --database-url postgresql://postgres@HOST/web_after

`--env CYBERQMS_DECISION_FLUSH_SECONDS=0` serves cyberqms with every access decision
written at once (as before issue 14 item 1), applied to every tree served.
"""

from __future__ import annotations

import argparse
import http.client
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
PASSWORD = "Benchmark-Harbour-Lantern-917"  # noqa: S105  (a throw-away demo database)

SETUP = """
from cyberqms.platform.accounts.models import User
from cyberqms.platform.accounts.services import token_create, user_password_changed
from cyberqms.platform.core.context import RequestContext, acting_context
from cyberqms.quality.deviations.models import Deviation
u = User.objects.get(username="jweber")
u.set_password({password!r}); u.must_change_password = False; u.save()
with acting_context(RequestContext(channel="cli")):
    user_password_changed(u)
    secret = token_create(actor=u, owner=u, name="benchmark", scopes=["*"], days=1).secret
d = Deviation.objects.filter(site__code="BSL").order_by("pk").first()
print("TOKEN", secret)
print("DEVIATION", d.pk)
"""


COUNT = """
from django.contrib.auth import get_user_model
print("USERS", get_user_model().objects.count())
"""


def _shown(url: str) -> str:
    """The URL without its password, to print."""
    parts = urllib.parse.urlsplit(url)
    if parts.password is None:
        return url
    return parts._replace(netloc=parts.netloc.replace(f":{parts.password}@", ":***@")).geturl()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def run(args: list[str], env: dict[str, str], cwd: Path = ROOT) -> str:
    done = subprocess.run(args, env=env, capture_output=True, text=True, check=False,  # noqa: S603
                          cwd=cwd)
    if done.returncode:
        sys.exit(f"{' '.join(args[:3])} failed:\n{done.stdout}{done.stderr}")
    return str(done.stdout)


class Server:
    """granian serving a WSGI application on a free loopback port."""

    def __init__(self, app: str, env: dict[str, str], workers: int, cwd: Path = ROOT) -> None:
        self.port = free_port()
        self.proc = subprocess.Popen(  # noqa: S603 (our own command, fixed arguments)
            [str(BIN / "granian"), "--interface", "wsgi", "--host", "127.0.0.1", "--port",
             str(self.port), "--workers", str(workers), "--blocking-threads", "8", "--no-ws",
             "--log-level", "warning", app],
            env=env, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.5):
                    return
            except OSError:
                time.sleep(0.1)
        self.stop()
        sys.exit(f"{app} did not start")

    def stop(self) -> None:
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()


def _cookies(response: http.client.HTTPResponse) -> dict[str, str]:
    return {m[1]: m[2] for header in response.headers.get_all("Set-Cookie") or []
            if (m := re.match(r"\s*([^=;\s]+)=([^;]*)", header))}


def sign_in(port: int) -> str:
    """The session's cookies from the real sign-in page (CSRF token and all)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    conn.request("GET", "/accounts/login/")
    response = conn.getresponse()
    page = response.read().decode()
    jar = _cookies(response)
    csrf = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page)
    if csrf is None:
        sys.exit("no CSRF token on the sign-in page")
    body = urllib.parse.urlencode({"csrfmiddlewaretoken": csrf[1], "login": "jweber",
                                   "password": PASSWORD})
    conn.request("POST", "/accounts/login/", body=body, headers={
        "Content-Type": "application/x-www-form-urlencoded",
        "Cookie": "; ".join(f"{k}={v}" for k, v in jar.items()),
        "Referer": f"http://127.0.0.1:{port}/accounts/login/"})
    response = conn.getresponse()
    response.read()
    if response.status != 302:
        sys.exit(f"sign-in failed: {response.status}")
    jar.update(_cookies(response))
    return "; ".join(f"{k}={v}" for k, v in jar.items())


@dataclass
class Result:
    name: str
    count: int = 0
    errors: int = 0
    latencies: list[float] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def rps(self) -> float:
        return self.count / self.seconds if self.seconds else 0.0

    def quantile(self, q: float) -> float:
        if not self.latencies:
            return 0.0
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000


def drive(name: str, port: int, path: str, headers: dict[str, str], *, connections: int,
          seconds: float, warmup: float = 1.0) -> Result:
    """`connections` threads, each a keep-alive connection asking `path` in a loop."""
    result = Result(name)
    lock = threading.Lock()
    start = time.monotonic()
    measure_from, stop_at = start + warmup, start + warmup + seconds

    def worker() -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        mine: list[float] = []
        errors = 0
        while (now := time.monotonic()) < stop_at:
            try:
                conn.request("GET", path, headers=headers)
                response = conn.getresponse()
                response.read()
                ok = response.status == 200
            except (OSError, http.client.HTTPException):
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
                ok = False
            done = time.monotonic()
            if now >= measure_from and done <= stop_at:
                if ok:
                    mine.append(done - now)
                else:
                    errors += 1
        conn.close()
        with lock:
            result.latencies.extend(mine)
            result.count += len(mine)
            result.errors += errors

    threads = [threading.Thread(target=worker) for _ in range(connections)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    result.seconds = seconds
    return result


@dataclass
class Side:
    """One cyberqms source tree served in the run: its demo, its server, its token."""

    source: Path
    label: str
    env: dict[str, str]
    token: str = ""
    deviation: str = ""
    cookie: str = ""
    port: int = 0


def _git(source: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["git", "-C", str(source), *args],  # noqa: S603, S607 (git on PATH)
                          capture_output=True, text=True, check=False)


def _label(source: Path) -> str:
    """The tree's directory and commit, `+` when its src/ differs from the commit."""
    head = _git(source, "rev-parse", "--short", "HEAD").stdout.strip()
    if not head:
        return source.name
    changed = _git(source, "diff", "--quiet", "HEAD", "--", "src").returncode == 1
    return f"{source.name}@{head}{'+' if changed else ''}"


def load(side: Side, scale: float, database_url: str | None) -> None:
    """Migrate, collect the static files and load the demo with the side's own code, then
    give the author the benchmark's password and an API token."""
    where = _shown(database_url) if database_url else side.env["CYBERQMS_DATA_DIR"]
    shown = run([sys.executable, "-c", "import cyberqms; print(cyberqms.__file__)"],
                side.env, cwd=side.source).strip()
    if not Path(shown).resolve().is_relative_to((side.source / "src").resolve()):
        sys.exit(f"{side.label}: cyberqms imports from {shown}, not {side.source / 'src'}")
    print(f"{side.label}: cyberqms from {Path(shown).parent}; demo at scale {scale} into "
          f"{where} …", flush=True)
    cli = [str(BIN / "cyberqms")]
    run([*cli, "migrate", "-v0"], side.env, cwd=side.source)
    if database_url and "USERS 0" not in run([*cli, "shell", "-c", COUNT], side.env,
                                             cwd=side.source):
        sys.exit(f"{where} is not empty: drop it and create it again for each run")
    run([*cli, "collectstatic", "--no-input", "-v0"], side.env, cwd=side.source)
    run([*cli, "demo", "--quiet-passwords", "--scale", str(scale)], side.env, cwd=side.source)
    out = run([*cli, "shell", "-c", SETUP.format(password=PASSWORD)], side.env, cwd=side.source)
    token = re.search(r"TOKEN (\S+)", out)
    deviation = re.search(r"DEVIATION (\d+)", out)
    if token is None or deviation is None:
        sys.exit(f"{side.label}: the demo set-up printed no token or deviation:\n{out}")
    side.token, side.deviation = token[1], deviation[1]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--scale", type=float, default=0.2)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--env", action="append", default=[],
                        help="NAME=VALUE for the cyberqms server (repeatable)")
    parser.add_argument("--source", action="append", type=Path, default=[],
                        help="a cyberqms source tree to serve (its src/ ahead of the installed "
                             "one); repeat to measure several in one run (default: this one)")
    parser.add_argument("--database-url", action="append", default=[],
                        help="an empty PostgreSQL database per --source, in the same order "
                             "(default: SQLite in the throw-away data directory)")
    args = parser.parse_args()
    sources = [s.resolve() for s in args.source] or [ROOT]
    if args.database_url and len(args.database_url) != len(sources):
        sys.exit(f"{len(args.database_url)} --database-url for {len(sources)} source tree(s)")
    if not all(u.startswith(("postgres://", "postgresql://")) for u in args.database_url):
        sys.exit("--database-url must be a postgresql:// URL")
    for source in sources:
        if not (source / "src" / "cyberqms").is_dir():
            sys.exit(f"{source} has no src/cyberqms")

    data = Path(tempfile.mkdtemp(prefix="cyberqms-web-"))
    try:
        base = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
        base.pop("DATABASE_URL", None)
        sides: list[Side] = []
        for n, source in enumerate(sources):
            env = {**base, "CYBERQMS_DATA_DIR": str(data / str(n)),
                   "PYTHONPATH": os.pathsep.join(
                       p for p in (str(source / "src"), base.get("PYTHONPATH")) if p)}
            if args.database_url:
                env["DATABASE_URL"] = args.database_url[n]
            (data / str(n)).mkdir()
            label = _label(source)
            if any(s.label == label for s in sides):
                label = f"{label}#{n + 1}"
            sides.append(Side(source, label, env))
        for n, side in enumerate(sides):
            load(side, args.scale, args.database_url[n] if args.database_url else None)

        bare_env = {**base, "BARE_DATA_DIR": str(data),
                    "PYTHONPATH": os.pathsep.join(
                        p for p in (str(ROOT / "benchmarks"), base.get("PYTHONPATH")) if p)}
        if args.database_url:
            bare_env["BARE_DATABASE_URL"] = args.database_url[0]
        run([sys.executable, "-m", "bare.setup"], bare_env)
        extra = f" with {' '.join(args.env)}" if args.env else ""
        database = "PostgreSQL" if args.database_url else "SQLite"
        print(f"serving on {database} with granian, {args.workers} worker(s), 8 threads; "
              f"{args.connections} connections, {args.seconds:g} s per URL{extra}", flush=True)
        bare = Server("bare.wsgi:application", bare_env, args.workers)
        servers = [bare]
        try:
            for side in sides:
                product_env = dict(side.env)
                for pair in args.env:
                    name, _, value = pair.partition("=")
                    product_env[name] = value
                servers.append(Server("cyberqms.wsgi:application", product_env, args.workers,
                                      cwd=side.source))
                side.port = servers[-1].port
                side.cookie = sign_in(side.port)
            plan: list[tuple[str, int, str, dict[str, str]]] = [
                ("bare one-row view", bare.port, "/row/1", {})]
            tag = len(sides) > 1
            urls = [
                ("API deviation detail", "/api/v1/records/deviations/{pk}", "api"),
                ("API deviation list", "/api/v1/deviations?limit=50", "api"),
                ("HTML deviation detail", "/deviations/{pk}/", "page"),
                ("HTML deviation list", "/deviations/", "page"),
                ("HTML home", "/", "page"),
            ]
            for name, path, kind in urls:
                for side in sides:  # each URL on every tree in turn: the same minute's load
                    headers = ({"Authorization": f"Bearer {side.token}",
                                "Accept": "application/json"} if kind == "api"
                               else {"Cookie": side.cookie})
                    plan.append((f"{name} [{side.label}]" if tag else name, side.port,
                                 path.format(pk=side.deviation), headers))
            results = [drive(name, port, path, headers, connections=args.connections,
                             seconds=args.seconds) for name, port, path, headers in plan]
        finally:
            for server in reversed(servers):
                server.stop()
        width = max(24, *(len(r.name) + 2 for r in results))
        rate = results[0].rps or 1.0
        print(f"\n{'URL':<{width}}{'req/s':>9}{'p50 ms':>9}{'p99 ms':>9}{'× bare':>8}"
              f"{'errors':>8}")
        for r in results:
            print(f"{r.name:<{width}}{r.rps:>9.1f}{r.quantile(0.5):>9.1f}"
                  f"{r.quantile(0.99):>9.1f}{r.rps / rate:>8.2f}{r.errors:>8}")
        print()
        for n, side in enumerate(sides):
            mean = statistics.fmean(r.rps for r in results[1 + n::len(sides)])
            whose = f" [{side.label}]" if tag else ""
            print(f"mean of cyberqms's URLs{whose}: {mean:.1f} req/s ({mean / rate:.2f} × bare)")
    finally:
        shutil.rmtree(data, ignore_errors=True)


if __name__ == "__main__":
    main()
