"""Settings for the test suite: the production module with fast hashing and inline tasks.

`DATABASE_URL` still selects PostgreSQL, so the same suite runs on both databases.
"""

import os
import tempfile

os.environ.setdefault("CYBERQMS_DATA_DIR", tempfile.mkdtemp(prefix="cyberqms-test-"))
os.environ.setdefault("CYBERQMS_ENV", "test")
# Test databases are thrown away: no need to survive a power loss, and syncing every
# commit would slow the suite.
os.environ.setdefault("CYBERQMS_SQLITE_SYNCHRONOUS", "NORMAL")

from cyberqms.settings import *  # noqa: F403  # the production settings, overridden below

# Argon2 is the production hasher (tested explicitly); hashing thousands of test
# passwords with it would dominate the suite's run time.
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.MD5PasswordHasher",
    "django.contrib.auth.hashers.Argon2PasswordHasher",
]
# One process receives the tests' events: detection as they arrive (the detector's own tests
# switch to "detector").
CYBERQMS_DETECTION = "inline"
# One process: its memory is the shared cache (servers started by tests use the database's).
CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}
TASKS = {"default": {"BACKEND": "django.tasks.backends.immediate.ImmediateBackend"}}
MAILERS = {"default": {"BACKEND": "django.core.mail.backends.locmem.EmailBackend"}}
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
}
# Transactional tests empty the database between tests; production refuses `flush`.
CYBERQMS_ALLOW_FLUSH = True
# Every decision written at once: a test reads the row of the request it just made
# (platform/core/tests/test_decision_batches.py runs the batches).
CYBERQMS_DECISION_FLUSH_SECONDS = 0.0
# A record family used only by the workflow-engine tests.
INSTALLED_APPS = [*INSTALLED_APPS, "cyberqms.platform.core.tests.sample"]  # noqa: F405  # from settings
# A quality-record family used only by the overdue-scan tests of the notifications.
INSTALLED_APPS = [*INSTALLED_APPS, "cyberqms.platform.notifications.tests.sample"]

# The suite's own security events stay out of the monitoring pipeline, except in the tests
# of that feed (they turn it on).
CYBERQMS_MONITOR_OWN_EVENTS = False
# Critical alerts raised by other apps' tests stay alerts; the escalation tests turn it on.
CYBERQMS_AUTO_ESCALATE_LEVEL = ""
# The suite signs in and fails sign-ins from 127.0.0.1 all day: the per-address rate limits
# stay out of the way except in the tests of those limits (accounts/tests/test_rate_limits.py
# sets them low explicitly).
CYBERQMS_SIGNIN_FAILURES_PER_ADDRESS = 10_000
CYBERQMS_TOKEN_FAILURES_PER_ADDRESS = 10_000
