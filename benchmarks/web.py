"""Requests per second of cyberqms's pages and API against a bare one-row Django view,
served the same way in the same run (issue 14's speed goals).

Loads the demo (`--scale`, default 0.2) into a throw-away data directory, gives the demo's
author a known password (pages, through the real sign-in page) and an API token, then
starts two servers with the product's server settings (granian, WSGI, 1 worker, 8
blocking threads; `--workers` for more): cyberqms itself, and `benchmarks/bare/`, a
minimal Django project whose one view reads one row from SQLite and answers JSON. Each
URL is driven by `--connections` (16) keep-alive connections for `--seconds` (5) after a
warm-up, and reported as requests per second, p50 and p99 latency, and the ratio to the
bare view's throughput in the same run.

    .venv/bin/python benchmarks/web.py [--seconds 5] [--connections 16] [--scale 0.2]
                                       [--workers 1] [--env NAME=VALUE ...]

`--env CYBERQMS_DECISION_FLUSH_SECONDS=0` serves cyberqms with every access decision
written at once (as before issue 14), for a before/after comparison in one run.
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


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def run(args: list[str], env: dict[str, str]) -> str:
    done = subprocess.run(args, env=env, capture_output=True, text=True, check=False,  # noqa: S603
                          cwd=ROOT)
    if done.returncode:
        sys.exit(f"{' '.join(args[:3])} failed:\n{done.stdout}{done.stderr}")
    return str(done.stdout)


class Server:
    """granian serving a WSGI application on a free loopback port."""

    def __init__(self, app: str, env: dict[str, str], workers: int) -> None:
        self.port = free_port()
        self.proc = subprocess.Popen(  # noqa: S603 (our own command, fixed arguments)
            [str(BIN / "granian"), "--interface", "wsgi", "--host", "127.0.0.1", "--port",
             str(self.port), "--workers", str(workers), "--blocking-threads", "8", "--no-ws",
             "--log-level", "warning", app],
            env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
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


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--scale", type=float, default=0.2)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--env", action="append", default=[],
                        help="NAME=VALUE for the cyberqms server (repeatable)")
    args = parser.parse_args()

    data = Path(tempfile.mkdtemp(prefix="cyberqms-web-"))
    try:
        env = {**os.environ, "CYBERQMS_DATA_DIR": str(data), "PYTHONDONTWRITEBYTECODE": "1"}
        env.pop("DATABASE_URL", None)
        cli = [str(BIN / "cyberqms")]
        print(f"loading the demo at scale {args.scale} into {data} …", flush=True)
        run([*cli, "migrate", "-v0"], env)
        run([*cli, "collectstatic", "--no-input", "-v0"], env)
        run([*cli, "demo", "--quiet-passwords", "--scale", str(args.scale)], env)
        out = run([*cli, "shell", "-c", SETUP.format(password=PASSWORD)], env)
        token = re.search(r"TOKEN (\S+)", out)
        deviation = re.search(r"DEVIATION (\d+)", out)
        if token is None or deviation is None:
            sys.exit(f"the demo set-up printed no token or deviation:\n{out}")

        bare_env = {**env, "BARE_DATA_DIR": str(data),
                    "PYTHONPATH": f"{ROOT / 'benchmarks'}{os.pathsep}{env.get('PYTHONPATH', '')}"}
        run([sys.executable, "-m", "bare.setup"], bare_env)
        product_env = dict(env)
        for pair in args.env:
            name, _, value = pair.partition("=")
            product_env[name] = value
        extra = f" with {' '.join(args.env)}" if args.env else ""
        print(f"serving with granian, {args.workers} worker(s), 8 threads; {args.connections} "
              f"connections, {args.seconds:g} s per URL{extra}", flush=True)
        bare = Server("bare.wsgi:application", bare_env, args.workers)
        product = Server("cyberqms.wsgi:application", product_env, args.workers)
        try:
            cookie = sign_in(product.port)
            api = {"Authorization": f"Bearer {token[1]}", "Accept": "application/json"}
            page = {"Cookie": cookie}
            pk = deviation[1]
            plan = [
                ("bare one-row view", bare.port, "/row/1", {}),
                ("API deviation detail", product.port, f"/api/v1/records/deviations/{pk}", api),
                ("API deviation list", product.port, "/api/v1/deviations?limit=50", api),
                ("HTML deviation detail", product.port, f"/deviations/{pk}/", page),
                ("HTML deviation list", product.port, "/deviations/", page),
                ("HTML home", product.port, "/", page),
            ]
            results = [drive(name, port, path, headers, connections=args.connections,
                             seconds=args.seconds) for name, port, path, headers in plan]
        finally:
            product.stop()
            bare.stop()
        base = results[0].rps or 1.0
        print(f"\n{'URL':<24}{'req/s':>9}{'p50 ms':>9}{'p99 ms':>9}{'× bare':>8}{'errors':>8}")
        for r in results:
            print(f"{r.name:<24}{r.rps:>9.1f}{r.quantile(0.5):>9.1f}{r.quantile(0.99):>9.1f}"
                  f"{r.rps / base:>8.2f}{r.errors:>8}")
        mean = statistics.fmean(r.rps for r in results[1:])
        print(f"\nmean of cyberqms's URLs: {mean:.1f} req/s ({mean / base:.2f} × bare)")
    finally:
        shutil.rmtree(data, ignore_errors=True)


if __name__ == "__main__":
    main()
