"""The product served by real processes, as `make serve` runs it (issue 14, item 7).

``Served.start`` migrates a database of its own (SQLite in a temporary directory, the
production settings), sets it up through the services in a process of its own (``main``
below: an IT-security person and an event source with its API token), then starts
granian with several web worker processes and the scheduler, which holds the lease and
runs detection (``CYBERQMS_DETECTION=detector``). Tests talk to it over HTTP and through
Chromium; nothing is shared with the test process but the files and the sockets.

    python -m cyberqms.web.tests.browser.served    # the set-up step; prints JSON
"""

from __future__ import annotations

import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import time
import urllib.request
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

BIN = Path(sys.executable).parent
WEB_WORKERS = 2


@dataclass
class Served:
    url: str
    env: dict[str, str]
    people: dict[str, Any]
    web: subprocess.Popen[bytes]
    schedulers: list[subprocess.Popen[bytes]] = field(default_factory=list)

    @classmethod
    def start(cls, data: Path) -> Served:
        env = {k: v for k, v in os.environ.items()
               if k not in {"DATABASE_URL", "DJANGO_SETTINGS_MODULE"}}
        env.update(DJANGO_SETTINGS_MODULE="cyberqms.settings", CYBERQMS_DATA_DIR=str(data),
                   CYBERQMS_DETECTION="detector", CYBERQMS_DETECT_INTERVAL="0.2",
                   CYBERQMS_SCHEDULER_LEASE_SECONDS="3", CYBERQMS_MONITOR_OWN_EVENTS="false")
        subprocess.run([str(BIN / "cyberqms"), "migrate", "--no-input", "-v0"], env=env,
                       check=True)
        made = subprocess.run([sys.executable, "-m", __name__], env=env, check=True,
                              capture_output=True, text=True)
        people = json.loads(made.stdout.strip().splitlines()[-1])
        port = free_port()
        log = open(data / "web.log", "wb")  # noqa: SIM115  # closed with the process
        web = subprocess.Popen(
            [str(BIN / "granian"), "--interface", "wsgi", "--host", "127.0.0.1", "--port",
             str(port), "--workers", str(WEB_WORKERS), "--blocking-threads", "4", "--no-ws",
             "cyberqms.wsgi:application"], env=env, stdout=log, stderr=log,
            start_new_session=True)
        served = cls(f"http://127.0.0.1:{port}", env, people, web)
        served.add_scheduler()
        served.wait_until_up()
        return served

    def add_scheduler(self) -> subprocess.Popen[bytes]:
        process = subprocess.Popen([str(BIN / "cyberqms"), "scheduler"], env=self.env,
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.schedulers.append(process)
        return process

    def wait_until_up(self, seconds: float = 60) -> None:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(f"{self.url}/healthz", timeout=2) as answer:  # noqa: S310  # loopback URL built above
                    if answer.status == 200:
                        return
            except OSError:
                pass
            time.sleep(0.2)
        raise RuntimeError("the served product did not answer /healthz")

    def web_workers(self) -> int:
        """The web server's worker processes (children of granian's main process)."""
        children = Path(f"/proc/{self.web.pid}/task/{self.web.pid}/children").read_text()
        return len(children.split())

    def waiting_batches(self) -> int:
        """Batches received but not yet detected (read from the served database file)."""
        database = Path(self.env["CYBERQMS_DATA_DIR"]) / "cyberqms.sqlite3"
        with closing(sqlite3.connect(f"file:{database}?mode=ro", uri=True)) as connection:
            return int(connection.execute(
                "SELECT COUNT(*) FROM monitoring_detectionbacklog").fetchone()[0])

    def send_events(self, lines: list[str]) -> dict[str, Any]:
        request = urllib.request.Request(  # noqa: S310  # loopback URL built above
            f"{self.url}/api/v1/monitoring/events", data="\n".join(lines).encode(),
            headers={"Authorization": f"Bearer {self.people['token']}",
                     "Content-Type": "text/plain"}, method="POST")
        with urllib.request.urlopen(request, timeout=10) as answer:  # noqa: S310  # see above
            return dict(json.loads(answer.read()))

    def stop(self) -> None:
        for process in self.schedulers:
            process.send_signal(signal.SIGTERM)
        os.killpg(self.web.pid, signal.SIGTERM)
        for process in [*self.schedulers, self.web]:
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


# One authenticator each: a code once used is refused on every worker (the shared cache),
# so two sign-ins within one 30-second step need two people.
ANALYSTS = {"it_security": "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP",
            "it_security_2": "KRSXG5CTMVRXEZLUKRSXG5CTMVRXEZLU"}


def main() -> None:
    """Set the served database up: IT-security people (the test personas' password, an
    authenticator each) and an event source with an ingest token; prints them as JSON."""
    import django

    django.setup()
    from cyberqms.conftest import _granter, create_person, enrol_totp
    from cyberqms.platform.accounts import services as accounts
    from cyberqms.platform.core.context import RequestContext, acting_context
    from cyberqms.security.monitoring import services

    analysts = {}
    for username, secret in ANALYSTS.items():
        analysts[username] = create_person(username, "it_security", mfa=False)
        enrol_totp(analysts[username], secret)
    analyst = analysts["it_security"]
    admin = _granter("it_security")
    with acting_context(RequestContext(channel="cli")):
        integration = accounts.integration_create(actor=admin, name="Basel relay",
                                                  kind="firewall", system="Plant relay")
        services.source_create(actor=analyst, name="Basel relay", kind="firewall",
                               system="Plant relay", format="syslog", integration=integration)
        issued = accounts.token_create(actor=admin, name="ingest", scopes=["monitoring.ingest"],
                                       days=30, integration=integration)
    print(json.dumps({"analysts": {u: a.printed_name for u, a in analysts.items()},
                      "token": issued.secret}))


if __name__ == "__main__":
    main()
