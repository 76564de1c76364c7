"""The least a Django project needs to answer one JSON row from SQLite (WAL, like cyberqms),
or from PostgreSQL when `BARE_DATABASE_URL` names one (kept open like cyberqms's, 60 s)."""

import os
from pathlib import Path

import dj_database_url

BASE = Path(os.environ.get("BARE_DATA_DIR", "."))
SECRET_KEY = "bare-benchmark-only"  # noqa: S105  (a benchmark yardstick, never deployed)
DEBUG = False
ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
INSTALLED_APPS = ["bare"]
MIDDLEWARE: list[str] = []
ROOT_URLCONF = "bare.urls"
if os.environ.get("BARE_DATABASE_URL"):
    DATABASES = {"default": dj_database_url.parse(os.environ["BARE_DATABASE_URL"],
                                                  conn_max_age=60)}
    DATABASES["default"]["ENGINE"] = "django.db.backends.postgresql"
else:
    DATABASES = {"default": {
        "ENGINE": "django.db.backends.sqlite3", "NAME": str(BASE / "bare.sqlite3"),
        "OPTIONS": {"init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;"},
    }}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
USE_TZ = True
