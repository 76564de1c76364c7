"""Processes that write to the trail while the fault and CLI tests act on them from outside.

Run as ``python -m cyberqms.platform.trail.tests.writers MODE ARGS`` with DJANGO_SETTINGS_MODULE and
the database (CYBERQMS_DATA_DIR or DATABASE_URL) in the environment:

* ``seed N``: the first administrator, N sites, one checkpoint;
* ``forever SEAL_EVERY``: create sites until killed, printing each entry's seq once its
  transaction has committed, sealing every SEAL_EVERY entries;
* ``burst GO_FILE WORKER COUNT SEAL_EVERY``: print "ready", wait for GO_FILE, seal, write
  COUNT entries about ``test.burst`` WORKER sealing every SEAL_EVERY entries and once at
  the end; prints the seqs it wrote;
* ``sign GO_FILE``: print "ready", wait for GO_FILE, then load (or create) the signing key
  and print its verifier key.

GO_FILE lets the test start several processes at the same moment, once all are ready.
`child_env` is the environment the tests start these (and `cyberqms`) processes with.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

SRC = Path(__file__).resolve().parents[4]
CYBERQMS = Path(sys.executable).with_name("cyberqms")
PYTHON = str(CYBERQMS.with_name("python"))


def child_env(data_dir: Path, **extra: str) -> dict[str, str]:
    """The environment of a cyberqms process on its own SQLite database in `data_dir`."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("DATABASE_URL", "CYBERQMS_TRAIL_KEY_FILE")}
    env.update(CYBERQMS_DATA_DIR=str(data_dir), DJANGO_SETTINGS_MODULE="cyberqms.settings_test",
               PYTHONPATH=str(SRC), PYTHONDONTWRITEBYTECODE="1")
    env.update(extra)
    return env


def _admin() -> object:
    from cyberqms.platform.accounts.bootstrap import bootstrap_administrator
    from cyberqms.platform.accounts.models import User

    existing = User.objects.filter(username="ada").first()
    if existing is not None:
        return existing
    return bootstrap_administrator(username="ada", full_name="Ada Admin",
                                   email="ada@x.test").user


def seed(count: int) -> None:
    from cyberqms.platform.accounts.services import site_create
    from cyberqms.platform.trail.log import trail_seal

    admin = _admin()
    for number in range(count):
        site_create(actor=admin, code=f"S{number}", name=f"Site {number}")
    trail_seal()


def forever(seal_every: int) -> None:
    from cyberqms.platform.accounts.services import site_create
    from cyberqms.platform.trail.log import trail_seal
    from cyberqms.platform.trail.models import AuditEntry

    admin = _admin()
    number = 0
    while True:
        site = site_create(actor=admin, code=f"F{number}", name=f"Fault site {number}")
        seq = AuditEntry.objects.get(object_type="accounts.site", object_id=str(site.pk)).seq
        print(seq, flush=True)  # the service has returned: committed
        number += 1
        if number % seal_every == 0:
            trail_seal()


def _start_together(go_file: str) -> None:
    import time
    from pathlib import Path

    go = Path(go_file)
    print("ready", flush=True)
    while not go.exists():
        time.sleep(0.001)


def burst(go_file: str, worker: int, count: int, seal_every: int) -> None:
    from django.db import transaction

    from cyberqms.platform.trail.log import trail_seal
    from cyberqms.platform.trail.record import audit_record

    _start_together(go_file)
    trail_seal()  # on an empty database every worker races to create the log head
    seqs = []
    for number in range(count):
        with transaction.atomic():
            entry = audit_record(
                "test.burst.write", object_type="test.burst", object_id=worker,
                label=f"worker {worker}", changes={"n": [number, number + 1]},
            )
        seqs.append(entry.seq)
        if number % seal_every == seal_every - 1:
            trail_seal()
    trail_seal()
    print(" ".join(map(str, seqs)), flush=True)


def sign(go_file: str) -> None:
    from cyberqms.platform.trail import keys

    _start_together(go_file)
    print(keys.signer().verifier().encode(), flush=True)


def main(argv: list[str]) -> None:
    import django

    django.setup()
    from cyberqms.platform.core.context import RequestContext, acting_context

    mode, *args = argv
    with acting_context(RequestContext(channel="system")):
        if mode == "seed":
            seed(int(args[0]))
        elif mode == "forever":
            forever(int(args[0]))
        elif mode == "burst":
            burst(args[0], *(int(a) for a in args[1:]))
        elif mode == "sign":
            sign(args[0])
        else:
            raise SystemExit(f"unknown mode {mode!r}")

if __name__ == "__main__":
    main(sys.argv[1:])
