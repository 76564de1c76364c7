"""Reading a backup back: every refusal before anything is restored, then the database
restored into a place of its own (a new SQLite file, a new PostgreSQL database), and a
cyberqms process started on it alone.

What is refused, with where and why in words (`BackupError`), before any byte is
restored: a changed, truncated or foreign-key backup (container.py); a backup from a newer
cyberqms (its version or a migration this code does not know); a manifest whose trail
checkpoint is not signed by a key in the trail's `.pub` file. `check` also authenticates
every chunk, so a changed byte deep in the body is found before the restore starts.

The isolated process (`cyberqms backup probe`) gets an environment of its own: its data
folder is a scratch folder, its database the restored copy, its trail key file a path
beside the public keys only (nothing it signed would verify with the site's keys), the
site's entry-authenticator key file (read, to check the entries' authenticators), and no
witness: what it checks the restored trail against is the checkpoint in the manifest,
nothing of the live site's. It refuses to run anywhere but on such a copy
(`require_isolated_copy`).
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

from django.conf import settings
from django.db import connection
from django.db.migrations.loader import MigrationLoader
from packaging.version import InvalidVersion, Version

import cyberqms

from .container import BackupError, Keys, Progress, check, read_part
from .services import pg_environment, pg_tool

PROBE_TIMEOUT = 3600.0
# Set by `isolated_copy` to the copy's folder: the commands that run inside a copy (the
# restore test's probe, the ransomware drill's attack) refuse to run anywhere else.
ISOLATION_ENV = "CYBERQMS_ISOLATED_COPY"


def require_isolated_copy() -> None:
    """Refuse, unless this process runs on an isolated copy made by `isolated_copy`: its
    marker set, its data folder inside the copy's, and its database the copy (a SQLite
    file inside it, or a `cyberqms_restore_…` database).
    :raises BackupError: saying this command runs only inside an isolated copy."""
    refusal = BackupError("This command runs only inside an isolated copy of a backup "
                          "(`cyberqms backup verify`, a ransomware drill), never on a site.")
    marker = os.environ.get(ISOLATION_ENV, "")
    if not marker:
        raise refusal
    folder = Path(marker).resolve()
    data = Path(settings.DATA_DIR).resolve()
    if not folder.is_dir() or folder not in data.parents:
        raise refusal
    name = str(connection.settings_dict["NAME"])
    if connection.vendor == "sqlite":
        if folder not in Path(name).resolve().parents:
            raise refusal
    elif not name.startswith("cyberqms_restore_"):
        raise refusal


def version_refusal(manifest: dict[str, Any], name: str) -> str | None:
    """Why this cyberqms cannot restore the backup `name` (made by a newer one), or None."""
    made_by = str(manifest.get("cyberqms", ""))
    try:
        newer = Version(made_by) > Version(cyberqms.__version__)
    except InvalidVersion:
        return f"{name}: made by an unknown cyberqms version {made_by!r}."
    if newer:
        return (f"{name}: made by cyberqms {made_by}, newer than this one "
                f"({cyberqms.__version__}): restore it with {made_by} or later.")
    known = MigrationLoader(None, ignore_no_migrations=True).disk_migrations
    unknown = sorted(f"{app}.{migration}"
                     for app, migration in (manifest.get("migrations") or {}).items()
                     if (app, migration) not in known)
    if unknown:
        return (f"{name}: its database has migrations this cyberqms does not have "
                f"({', '.join(unknown[:3])}): it was made by a newer or another build.")
    return None


def checkpoint_refusal(manifest: dict[str, Any], name: str) -> str | None:
    """Why the manifest's trail checkpoint cannot be trusted, or None (none at all is a
    refusal too: a restore test proves the trail against it)."""
    from cyberqms.platform.trail import keys
    from cyberqms.platform.trail.models import AuditEntry
    from cyberqms.platform.trail.note import NoteError, open_checkpoint

    found = manifest.get("checkpoint") or {}
    note = str(found.get("note") or "")
    if not note:
        if (manifest.get("rows") or {}).get(AuditEntry._meta.db_table, 0) == 0:
            return None  # an empty trail: nothing was written, nothing to prove
        return f"{name}: its manifest names no trail checkpoint."
    try:
        parsed, _ = open_checkpoint(note, keys.parsed_verifier_keys(), keys.origin())
    except NoteError as exc:
        return (f"{name}: the trail checkpoint in its manifest does not verify with this "
                f"site's trail keys: {exc}")
    if parsed.size != found.get("size") or parsed.root_hash.hex() != found.get("root"):
        return f"{name}: the manifest's checkpoint size or root differs from its signed note."
    return None


def open_backup(path: Path, keys: Keys, progress: Progress | None = None) -> dict[str, Any]:
    """The backup's manifest once every check has passed: the file authenticated chunk by
    chunk, made by this cyberqms or an older one, its checkpoint signed by a trusted key.
    :raises BackupError: naming the file and what is wrong."""
    if not path.is_file():
        raise BackupError(f"{path}: no such backup.")
    manifest = check(path, keys, progress)
    for refusal in (version_refusal(manifest, path.name),
                    checkpoint_refusal(manifest, path.name)):
        if refusal:
            raise BackupError(refusal)
    return manifest


@dataclass
class Isolated:
    """A restored copy: where it is, the environment of a process that runs on it alone,
    and how long the restore took."""

    engine: str
    folder: Path  # scratch: the isolated data folder (and the SQLite copy)
    env: dict[str, str]
    database: str  # the SQLite file or the PostgreSQL database's name
    seconds: float = 0.0
    cleanup: list[Any] = field(default_factory=list)


def _part_name(manifest: dict[str, Any]) -> str:
    return "database.sqlite3" if manifest["engine"] == "sqlite" else "database.pgdump"


def _isolated_env(folder: Path, database_url: str) -> dict[str, str]:
    data = folder / "data"
    data.mkdir(mode=0o700, exist_ok=True)
    trail_key = Path(settings.CYBERQMS_TRAIL_KEY_FILE)
    public = trail_key.with_name(trail_key.name + ".pub")
    if public.exists():  # the verifier keys only: the copy can check, never sign
        shutil.copyfile(public, data / (trail_key.name + ".pub"))
    # The site's own environment (its mode, hosts, organization), with the database, the
    # data folder, the keys and the witnesses replaced.
    env = {name: value for name, value in os.environ.items() if not name.startswith("PG")}
    env.update({
        "DJANGO_SETTINGS_MODULE": os.environ.get("DJANGO_SETTINGS_MODULE",
                                                 "cyberqms.settings"),
        "CYBERQMS_DATA_DIR": str(data),
        "DATABASE_URL": database_url,
        "CYBERQMS_SQLITE_SYNCHRONOUS": "NORMAL",  # a copy thrown away after the test
        "CYBERQMS_TRAIL_KEY_FILE": str(data / trail_key.name),
        "CYBERQMS_TRAIL_MAC_KEY_FILE": str(settings.CYBERQMS_TRAIL_MAC_KEY_FILE),
        "CYBERQMS_TRAIL_ORIGIN": str(settings.CYBERQMS_TRAIL_ORIGIN),
        "CYBERQMS_ATTACHMENT_KEY": str(settings.CYBERQMS_ATTACHMENT_KEY),
        "CYBERQMS_TRAIL_WITNESS_DIRS": "",
        "CYBERQMS_TRAIL_WITNESSES": "",
        "CYBERQMS_BACKUP_DIR": str(folder / "backups"),
        "CYBERQMS_BACKUP_KEY_FILE": str(data / "backup.key"),
        "PYTHONPATH": os.pathsep.join(p for p in sys.path if p),
        ISOLATION_ENV: str(folder),
    })
    return env


def _pg_url(name: str) -> str:
    """The site's server with database `name`: an empty host stays empty (libpq's socket,
    as `createdb` uses), a socket folder is percent-encoded, an IPv6 address bracketed."""
    db = connection.settings_dict
    user = quote(str(db.get("USER") or ""), safe="")
    password = f":{quote(str(db['PASSWORD']), safe='')}" if db.get("PASSWORD") else ""
    host = str(db.get("HOST") or "")
    if host.startswith("/"):
        host = quote(host, safe="")
    elif ":" in host:
        host = f"[{host}]"
    port = f":{db['PORT']}" if db.get("PORT") else ""
    return f"postgresql://{user}{password}@{host}{port}/{name}"


def _run(args: list[str], *, env: dict[str, str], what: str,
         stdin: Any = None) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(  # noqa: S603  # fixed programs and arguments, no shell
        args, env=env, stdin=stdin, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise BackupError(f"{what} failed: {done.stderr.strip()[:500]}")
    return done


def _drop_pg(name: str) -> None:
    subprocess.run([pg_tool("dropdb"), "--if-exists", "--force", name],  # noqa: S603
                   env=pg_environment(), capture_output=True, check=False)


@contextmanager
def isolated_copy(path: Path, keys: Keys, manifest: dict[str, Any], *,
                  scratch: Path | None = None,
                  progress: Progress | None = None) -> Iterator[Isolated]:
    """Restore the backup's database into a new, isolated place and give it, removed when
    the block ends. The plain copy stays under the data folder (mode 0700), never in the
    backup folder.
    :raises BackupError: the restore failed (the place is removed)."""
    root = Path(scratch or settings.DATA_DIR)
    root.mkdir(parents=True, exist_ok=True)
    folder = root / f".restore-{secrets.token_hex(6)}"
    folder.mkdir(mode=0o700)
    started = time.perf_counter()
    engine, part = manifest["engine"], _part_name(manifest)
    isolated: Isolated | None = None
    try:
        if engine == "sqlite":
            data = folder / "data"
            data.mkdir(mode=0o700)
            target = data / "cyberqms.sqlite3"
            with open(target, "wb") as out:
                for block in read_part(path, keys, manifest, part, progress):
                    out.write(block)
            isolated = Isolated(engine, folder, _isolated_env(folder, ""), str(target))
        elif engine == "postgresql":
            if connection.vendor != "postgresql":
                raise BackupError(f"{path.name} holds a PostgreSQL database: restore it on "
                                  "a site that runs on PostgreSQL (DATABASE_URL).")
            name = f"cyberqms_restore_{secrets.token_hex(6)}"
            _run([pg_tool("createdb"), "--template=template0", "--encoding=UTF8", name],
                 env=pg_environment(), what="Creating the database for the restored copy")
            isolated = Isolated(engine, folder, _isolated_env(folder, _pg_url(name)), name)
            isolated.cleanup.append(lambda: _drop_pg(name))
            feed_pg_restore(path, keys, manifest, progress, name, folder)
        else:
            raise BackupError(f"{path.name}: no restore for the {engine} engine.")
        isolated.seconds = time.perf_counter() - started
        yield isolated
    finally:
        for step in reversed(isolated.cleanup if isolated else []):
            step()
        shutil.rmtree(folder, ignore_errors=True)


def feed_pg_restore(path: Path, keys: Keys, manifest: dict[str, Any],
                    progress: Progress | None, database: str, scratch: Path,
                    *extra: str) -> None:
    """`pg_restore` into `database`, fed from the backup's decryption (nothing plain on
    disk); its messages go to a file in `scratch` (a full pipe would stall it).
    :raises BackupError: pg_restore failed, with its first words."""
    errors = scratch / f".pg_restore-{secrets.token_hex(4)}.log"
    try:
        with open(errors, "wb") as log:
            restore = subprocess.Popen(  # noqa: S603  # fixed program and arguments
                [pg_tool("pg_restore"), "--no-owner", "--no-privileges", "--exit-on-error",
                 *extra, f"--dbname={database}"],
                env=pg_environment(), stdin=subprocess.PIPE, stderr=log)
            stdin = restore.stdin
            if stdin is None:  # pragma: no cover - asked for above
                raise BackupError("pg_restore could not be fed.")
            try:
                for block in read_part(path, keys, manifest, "database.pgdump", progress):
                    stdin.write(block)
            except BrokenPipeError:
                pass  # pg_restore stopped: its exit status and log say why
            finally:
                stdin.close()
                status = restore.wait()
        if status != 0:
            text = errors.read_text(encoding="utf-8", errors="replace").strip()
            raise BackupError(f"pg_restore failed: {text[:500]}")
    finally:
        errors.unlink(missing_ok=True)


def run_probe(isolated: Isolated, manifest: dict[str, Any], *,
              timeout: float = PROBE_TIMEOUT) -> dict[str, Any]:
    """Run `cyberqms backup probe` on the isolated copy and give its report (probe.py)."""
    given = isolated.folder / "manifest.json"
    given.write_text(json.dumps(manifest), encoding="utf-8")
    try:
        done = subprocess.run(  # noqa: S603  # this interpreter, fixed arguments
            [sys.executable, "-m", "cyberqms", "backup", "probe", str(given)],
            env=isolated.env, cwd=isolated.folder, capture_output=True, text=True,
            timeout=timeout, check=False)
    except subprocess.TimeoutExpired:
        raise BackupError(f"The restored copy was not checked within {timeout:.0f} s."
                          ) from None
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    if not lines:
        raise BackupError("The restored copy could not be checked: "
                          f"{(done.stderr or done.stdout).strip()[-800:]}")
    report: dict[str, Any] = json.loads(lines[-1])
    return report
