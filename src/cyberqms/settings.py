"""The one settings module of cyberqms, driven by the environment.

Every variable read here is documented in docs/configuration.md. Defaults are safe for a
single-machine installation: SQLite in WAL mode under ./var, secrets generated on first
run into files readable by the owner only, HTTPS-only cookies in production.
"""

from __future__ import annotations

import importlib.util
import ipaddress
import os
import secrets
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.csp import CSP

BASE_DIR = Path(__file__).resolve().parent
PROJECT_ROOT = BASE_DIR.parent.parent


def env(name: str, default: str = "") -> str:
    return os.environ.get(name, default)


def env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    if raw.lower() in {"1", "true", "yes", "on"}:
        return True
    if raw.lower() in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"{name} must be true or false, not {raw!r}")


def env_int(name: str, default: int, *, minimum: int = 0) -> int:
    raw = os.environ.get(name)
    if raw is None or raw == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be an integer, not {raw!r}") from None
    if value < minimum:
        raise ImproperlyConfigured(f"{name} must be at least {minimum}, not {value}")
    return value


def env_list(name: str, default: list[str]) -> list[str]:
    raw = os.environ.get(name)
    if raw is None:
        return default
    return [item.strip() for item in raw.split(",") if item.strip()]


def env_months(name: str, default: list[str]) -> dict[str, int]:
    """`key=months` pairs, comma-separated ("sop=24,pol=36"), each a whole number above 0."""
    out: dict[str, int] = {}
    for item in env_list(name, default):
        key, _, months = item.partition("=")
        if not key.strip() or not months.strip().isdigit() or int(months) < 1:
            raise ImproperlyConfigured(f"{name}: {item!r} is not key=months (months 1 or more)")
        out[key.strip()] = int(months)
    return out


def secret(name: str, *, generate_into: Path | None = None, nbytes: int = 48) -> str:
    """Read a secret from NAME, or from the file named by NAME_FILE.

    Without either, a random secret is generated once into ``generate_into`` (mode 0600)
    so that no installation ever runs with a secret shipped in the source.
    """
    value = os.environ.get(name)
    if value:
        return value
    file_name = os.environ.get(f"{name}_FILE")
    if file_name:
        try:
            return Path(file_name).read_text(encoding="utf-8").strip()
        except OSError as exc:
            raise ImproperlyConfigured(f"{name}_FILE={file_name}: {exc.strerror}") from None
    if generate_into is None:
        return ""
    if not generate_into.exists():
        # Processes starting together on a fresh data directory race here: each writes a
        # private temporary file, and the first hard link wins; the others read the winner's.
        generate_into.parent.mkdir(parents=True, exist_ok=True)
        tmp = generate_into.with_name(f"{generate_into.name}.{os.getpid()}.tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(secrets.token_urlsafe(nbytes))
            handle.flush()
            os.fsync(handle.fileno())
        try:
            os.link(tmp, generate_into)
        except FileExistsError:
            pass
        finally:
            tmp.unlink()
    return generate_into.read_text(encoding="utf-8").strip()


CYBERQMS_ENV = env("CYBERQMS_ENV", "development")
if CYBERQMS_ENV not in {"development", "production", "test"}:
    raise ImproperlyConfigured("CYBERQMS_ENV must be development, production or test")
PRODUCTION = CYBERQMS_ENV == "production"

DATA_DIR = Path(env("CYBERQMS_DATA_DIR", str(PROJECT_ROOT / "var"))).resolve()
DATA_DIR.mkdir(parents=True, exist_ok=True)

SECRET_KEY = secret("CYBERQMS_SECRET_KEY", generate_into=DATA_DIR / "secret_key")
DEBUG = env_bool("CYBERQMS_DEBUG", default=False)
if DEBUG and PRODUCTION:
    # Debug pages show settings, SQL and tracebacks to whoever triggers an error.
    raise ImproperlyConfigured("CYBERQMS_DEBUG=true is refused with CYBERQMS_ENV=production")
ALLOWED_HOSTS = env_list(
    "CYBERQMS_ALLOWED_HOSTS", [] if PRODUCTION else ["127.0.0.1", "localhost", "[::1]"]
)
CSRF_TRUSTED_ORIGINS = env_list("CYBERQMS_CSRF_TRUSTED_ORIGINS", [])
# Reverse proxies whose X-Forwarded-For is believed (core.client_address): their networks
# (CIDR), and/or how many stand in front of the application. Neither (the default): the
# client is the peer, and the header, which anyone can write, is never read.
CYBERQMS_TRUSTED_PROXIES = env_list("CYBERQMS_TRUSTED_PROXIES", [])
for _proxy in CYBERQMS_TRUSTED_PROXIES:
    try:
        ipaddress.ip_network(_proxy, strict=False)
    except ValueError:
        raise ImproperlyConfigured(
            f"CYBERQMS_TRUSTED_PROXIES: {_proxy!r} is not an address or network (CIDR)"
        ) from None
CYBERQMS_PROXY_HOPS = env_int("CYBERQMS_PROXY_HOPS", 0)

def _family_apps(layer: str) -> list[str]:
    """Record families are found, not listed: every package under cyberqms/<layer>/ with
    an apps.py is an installed app (docs/adding-a-record-family.md)."""
    root = Path(__file__).resolve().parent / layer
    return sorted(f"cyberqms.{layer}.{found.parent.name}" for found in root.glob("*/apps.py"))


INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    "allauth",
    "allauth.account",
    "allauth.mfa",
    "axes",
    "django_tasks_db",
    # the platform: gate and context, the trail, people and roles, notices, the record kit
    "cyberqms.platform.core",
    "cyberqms.platform.trail",
    "cyberqms.platform.accounts",
    "cyberqms.platform.notifications",
    "cyberqms.platform.kit",
    "cyberqms.platform.backups",
    # GxP assets: suppliers, computerized systems, risk assessments (found, not listed)
    *_family_apps("assets"),
    # quality records: every family under quality/ (found, not listed)
    *_family_apps("quality"),
    # security monitoring and incidents
    "cyberqms.security.monitoring",
    "cyberqms.security.transport",
    "cyberqms.security.incidents",
    # access governance: usage of rights, drift findings, access reviews
    "cyberqms.security.access",
    "cyberqms.security.findings",
    "cyberqms.security.governance",
    "cyberqms.security.drills",
    "cyberqms.web",
    "cyberqms.demo",  # the demo command and generators (not product code)
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "cyberqms.platform.core.middleware.RequestContextMiddleware",
    "cyberqms.platform.core.middleware.BodySizeLimitMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # Pages in the signed-in person's time zone (the API and exports stay in UTC).
    "cyberqms.platform.accounts.time_zones.TimeZoneMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "cyberqms.platform.core.middleware.IdleTimeoutMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "allauth.account.middleware.AccountMiddleware",
    "cyberqms.platform.core.middleware.AccessGateMiddleware",
    # Axes must be last so that it sees the final response of a failed login.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "cyberqms.urls"
WSGI_APPLICATION = "cyberqms.wsgi.application"
ASGI_APPLICATION = "cyberqms.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.csp",
                "cyberqms.web.context_processors.navigation",
                "cyberqms.platform.notifications.context_processors.inbox",
                "cyberqms.security.monitoring.context_processors.alert_banner",
            ],
        },
    }
]
# Django's form renderer, with the common widget templates written out in Python (the same
# bytes, a fraction of the time: platform/core/form_renderer.py).
FORM_RENDERER = "cyberqms.platform.core.form_renderer.FormRenderer"

# --- Database -------------------------------------------------------------------------
DATABASE_URL = env("DATABASE_URL")
if DATABASE_URL:
    if not DATABASE_URL.startswith(("postgres://", "postgresql://")):
        raise ImproperlyConfigured("DATABASE_URL must be a postgresql:// URL")
    DATABASES = {"default": dj_database_url.parse(DATABASE_URL, conn_max_age=60)}
    DATABASES["default"]["ENGINE"] = "django.db.backends.postgresql"
    DATABASES["default"]["ATOMIC_REQUESTS"] = False
else:
    _SQLITE_SYNC = env("CYBERQMS_SQLITE_SYNCHRONOUS", "FULL").upper()
    if _SQLITE_SYNC not in {"FULL", "NORMAL"}:
        raise ImproperlyConfigured("CYBERQMS_SQLITE_SYNCHRONOUS must be FULL or NORMAL")
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": str(DATA_DIR / "cyberqms.sqlite3"),
            "OPTIONS": {
                # WAL lets readers proceed while one writer commits; IMMEDIATE takes the
                # write lock at BEGIN so concurrent writers queue instead of failing.
                # synchronous=FULL syncs the WAL at every commit: a record the user saw
                # saved survives a power loss (ALCOA+ "enduring"), as PostgreSQL's default
                # synchronous_commit does. NORMAL may lose the last commits on power loss.
                "init_command": (
                    f"PRAGMA journal_mode=WAL; PRAGMA synchronous={_SQLITE_SYNC}; "
                    "PRAGMA foreign_keys=ON; PRAGMA busy_timeout=10000;"
                ),
                "transaction_mode": "IMMEDIATE",
            },
            # Kept open between a thread's requests, as PostgreSQL's are (60 s): opening one
            # per request cost 2-5 ms (the pragmas above, Django's SQL functions, an empty
            # statement cache).
            "CONN_MAX_AGE": 60,
        }
    }
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
# One cache for every web worker, background worker and node: in the database they share
# (its table comes with `migrate`). A one-time code once used is then refused on every
# worker, not only on the one that took it (allauth keeps used codes there).
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.db.DatabaseCache",
        "LOCATION": "cyberqms_cache",
        "OPTIONS": {"MAX_ENTRIES": 10_000},
    }
}

# --- Identity -------------------------------------------------------------------------
AUTH_USER_MODEL = "accounts.User"
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    # allauth's, with the per-request read of the person compiled once (accounts/backends.py)
    "cyberqms.platform.accounts.backends.AuthenticationBackend",
]
PASSWORD_HASHERS = [
    "django.contrib.auth.hashers.Argon2PasswordHasher",
    "django.contrib.auth.hashers.PBKDF2PasswordHasher",
]
PASSWORD_MIN_LENGTH = env_int("CYBERQMS_PASSWORD_MIN_LENGTH", 12, minimum=12)
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": PASSWORD_MIN_LENGTH},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "account_login"
LOGIN_REDIRECT_URL = "web:home"

ACCOUNT_ADAPTER = "cyberqms.platform.accounts.adapter.AccountAdapter"
ACCOUNT_LOGIN_METHODS = {"username"}
ACCOUNT_SIGNUP_FIELDS = ["username*", "email*", "password1*", "password2*"]
ACCOUNT_EMAIL_VERIFICATION = "none"
ACCOUNT_LOGOUT_ON_PASSWORD_CHANGE = False
ACCOUNT_PREVENT_ENUMERATION = True
ACCOUNT_SESSION_REMEMBER = False
ACCOUNT_LOGIN_ON_PASSWORD_RESET = False
ACCOUNT_EMAIL_NOTIFICATIONS = True
ACCOUNT_REAUTHENTICATION_REQUIRED = True
# Re-authentication proves the person at the keyboard (Part 11 §11.200): the password, or the
# authenticator for enrolled users. A code e-mailed to the mailbox proves only mailbox access.
ACCOUNT_REAUTHENTICATION_METHODS = ("password", "mfa")
# A password typed within this window counts as recent: the forced change right after the
# sign-in with a one-time password does not ask for it again (accounts/first_sign_in.py).
ACCOUNT_REAUTHENTICATION_TIMEOUT = 300
ACCOUNT_FORMS = {"change_password": "cyberqms.platform.accounts.forms.ChangePasswordForm"}
ACCOUNT_LOGIN_BY_CODE_ENABLED = False
ACCOUNT_RATE_LIMITS = False  # django-axes owns lockout; two limiters would disagree.
MFA_ADAPTER = "cyberqms.platform.accounts.adapter.MFAAdapter"
MFA_SUPPORTED_TYPES = ["totp", "recovery_codes"]
MFA_TOTP_ISSUER = env("CYBERQMS_MFA_ISSUER", "cyberqms")
MFA_RECOVERY_CODE_COUNT = 10
# One 30-second step either side of now (RFC 6238 §5.2): a code typed at the end of its step
# and submitted in the next, or a phone a few seconds off, still signs. allauth marks a used
# code for the whole window, so accepting the neighbouring steps never lets a code be replayed.
MFA_TOTP_TOLERANCE = 1

AXES_FAILURE_LIMIT = env_int("CYBERQMS_LOCKOUT_FAILURES", 5, minimum=1)
_cooloff = env_int("CYBERQMS_LOCKOUT_COOLOFF_MINUTES", 0)
# 0 means "until an administrator unlocks the account" (Part 11 §11.300(d)).
AXES_COOLOFF_TIME = (_cooloff / 60) if _cooloff else None
AXES_LOCKOUT_PARAMETERS = ["username"]
# Lockout is per account (21 CFR 11.300(d)). Locking per source address in axes too would
# lock a whole plant behind a NAT gateway for good (axes has one limit and one cool-off
# for every parameter); sign-ins from one address are rate-limited for a while instead
# (CYBERQMS_SIGNIN_FAILURES_PER_ADDRESS below), so axes' advice to add ip_address is
# declined on purpose.
SILENCED_SYSTEM_CHECKS = ["axes.W006"]
AXES_USERNAME_CALLABLE = "cyberqms.platform.accounts.lockout.client_username"
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_CALLABLE = "cyberqms.platform.accounts.lockout.lockout_response"
AXES_VERBOSE = False
AXES_ENABLE_ACCESS_FAILURE_LOG = True  # also the per-address count of failed sign-ins
# The client address derived once per request, behind trusted proxies too (see below).
AXES_CLIENT_IP_CALLABLE = "cyberqms.platform.core.client_address.request_client_address"

# Rate limits per client address, in one window: failed sign-ins across all usernames (then
# sign-in from that address answers 429 until enough failures age out of the window), and
# rejected API tokens (then every bearer request from it answers 429 until the window that
# the first rejection opened ends). Rejections in a window are one security event with a
# count, not one each (docs/configuration.md).
CYBERQMS_RATE_LIMIT_WINDOW_MINUTES = env_int("CYBERQMS_RATE_LIMIT_WINDOW_MINUTES", 15, minimum=1)
CYBERQMS_SIGNIN_FAILURES_PER_ADDRESS = env_int(
    "CYBERQMS_SIGNIN_FAILURES_PER_ADDRESS", 20, minimum=1
)
CYBERQMS_TOKEN_FAILURES_PER_ADDRESS = env_int("CYBERQMS_TOKEN_FAILURES_PER_ADDRESS", 20, minimum=1)

# Django's database sessions; the read of each request's session compiled once.
SESSION_ENGINE = "cyberqms.platform.accounts.sessions"
SESSION_IDLE_SECONDS = env_int("CYBERQMS_SESSION_IDLE_MINUTES", 15, minimum=1) * 60
SESSION_COOKIE_AGE = env_int("CYBERQMS_SESSION_MAX_HOURS", 12, minimum=1) * 3600
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
SESSION_COOKIE_NAME = "cyberqms_session"
CSRF_COOKIE_NAME = "cyberqms_csrf"
CSRF_COOKIE_HTTPONLY = False  # htmx reads it to send X-CSRFToken.

CYBERQMS_MFA_REQUIRED_ROLES = env_list(
    "CYBERQMS_MFA_REQUIRED_ROLES",
    ["administrator", "qa_manager", "it_security", "system_owner"],
)
CYBERQMS_TOKEN_MAX_DAYS = env_int("CYBERQMS_TOKEN_MAX_DAYS", 90, minimum=1)
CYBERQMS_PASSWORD_MAX_AGE_DAYS = env_int("CYBERQMS_PASSWORD_MAX_AGE_DAYS", 0)
CYBERQMS_AUDITOR_MAX_DAYS = env_int("CYBERQMS_AUDITOR_MAX_DAYS", 30, minimum=1)
CYBERQMS_RECORD_DECISIONS = env_bool("CYBERQMS_RECORD_DECISIONS", default=True)

# --- access governance (security/access, security/findings, security/governance) --------
# A right (an action at a site) unused for this many days is a finding, by the right's
# criticality: approving, closing, signing and administering rights are "high"; other
# writes "medium"; reads are never findings.
CYBERQMS_ACCESS_UNUSED_HIGH_DAYS = env_int("CYBERQMS_ACCESS_UNUSED_HIGH_DAYS", 180, minimum=1)
CYBERQMS_ACCESS_UNUSED_MEDIUM_DAYS = env_int("CYBERQMS_ACCESS_UNUSED_MEDIUM_DAYS", 365,
                                             minimum=1)
# An account with no sign-in for this many days is dormant.
CYBERQMS_ACCESS_DORMANT_DAYS = env_int("CYBERQMS_ACCESS_DORMANT_DAYS", 90, minimum=1)
# An API token unused for this many days, or older than the rotation period, is a finding.
CYBERQMS_ACCESS_TOKEN_UNUSED_DAYS = env_int("CYBERQMS_ACCESS_TOKEN_UNUSED_DAYS", 30, minimum=1)
CYBERQMS_TOKEN_ROTATION_DAYS = env_int("CYBERQMS_TOKEN_ROTATION_DAYS", 60, minimum=1)
# Usage is counted from decisions older than this (a decision written by a transaction
# still open is not skipped: PostgreSQL hands out ids before commit).
CYBERQMS_ACCESS_USAGE_LAG_SECONDS = env_int("CYBERQMS_ACCESS_USAGE_LAG_SECONDS", 300)
# Access reviews: days a reviewer has to decide, once a campaign is launched.
CYBERQMS_ACCESS_REVIEW_DAYS = env_int("CYBERQMS_ACCESS_REVIEW_DAYS", 21, minimum=1)
# Every active site's access is reviewed every this many months (a campaign launched by the
# scheduler); 0: campaigns are launched by hand only.
CYBERQMS_ACCESS_REVIEW_MONTHS = env_int("CYBERQMS_ACCESS_REVIEW_MONTHS", 3)
# An account of a computerized system revoked in an access review and still in the user
# list this many days later is a high finding (its owner removes it in the system).
CYBERQMS_ACCESS_REMOVAL_DAYS = env_int("CYBERQMS_ACCESS_REMOVAL_DAYS", 5, minimum=1)
# Allowed reads' decisions are written in batches, off the request path
# (platform/core/decisions.py): at most this many seconds after the decision, or as soon as
# CYBERQMS_DECISION_BATCH rows wait. Refusals, writes and decisions inside a transaction are
# written at once. 0: every decision at once.
CYBERQMS_DECISION_FLUSH_SECONDS = max(0.0, float(env("CYBERQMS_DECISION_FLUSH_SECONDS", "1")))
CYBERQMS_DECISION_BATCH = env_int("CYBERQMS_DECISION_BATCH", 200, minimum=1)

# --- HTTP hardening -------------------------------------------------------------------
DATA_UPLOAD_MAX_MEMORY_SIZE = env_int("CYBERQMS_MAX_BODY_BYTES", 1024 * 1024, minimum=1024)
CYBERQMS_MAX_BODY_BYTES = DATA_UPLOAD_MAX_MEMORY_SIZE
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF, CSP.NONCE],
    "style-src": [CSP.SELF],
    "img-src": [CSP.SELF, "data:"],
    "connect-src": [CSP.SELF],
    "font-src": [CSP.SELF],
    "object-src": [CSP.NONE],
    "base-uri": [CSP.NONE],
    "frame-ancestors": [CSP.NONE],
    "form-action": [CSP.SELF],
}
if PRODUCTION:
    SECURE_SSL_REDIRECT = env_bool("CYBERQMS_SSL_REDIRECT", default=True)
    SECURE_HSTS_SECONDS = env_int("CYBERQMS_HSTS_SECONDS", 31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = env_bool("CYBERQMS_HSTS_PRELOAD", default=True)
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_PROXY_SSL_HEADER = (
        ("HTTP_X_FORWARDED_PROTO", "https") if env_bool("CYBERQMS_BEHIND_PROXY", False) else None
    )
    if not ALLOWED_HOSTS:
        raise ImproperlyConfigured("CYBERQMS_ALLOWED_HOSTS is required in production")

# --- Static files, e-mail, tasks, logging ---------------------------------------------
STATIC_URL = "/static/"
# Swagger UI for the API documentation comes from django-ninja's bundled files, never a
# CDN. Their folder is listed here rather than "ninja" in INSTALLED_APPS: importing the
# package at start-up (pydantic with it) cost every `cyberqms` command 0.2 s.
_NINJA_SPEC = importlib.util.find_spec("ninja")
STATICFILES_DIRS = [BASE_DIR / "static", *(
    [Path(_NINJA_SPEC.origin).parent / "static"] if _NINJA_SPEC and _NINJA_SPEC.origin else []
)]
STATIC_ROOT = DATA_DIR / "static"
STATIC_ROOT.mkdir(parents=True, exist_ok=True)
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if PRODUCTION
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
WHITENOISE_USE_FINDERS = not PRODUCTION

_mail_backend = env(
    "CYBERQMS_EMAIL_BACKEND",
    "django.core.mail.backends.smtp.EmailBackend"
    if PRODUCTION
    else "django.core.mail.backends.console.EmailBackend",
)
MAILERS = {
    "default": {
        "BACKEND": _mail_backend,
        "OPTIONS": (
            {
                "host": env("CYBERQMS_EMAIL_HOST", "localhost"),
                "port": env_int("CYBERQMS_EMAIL_PORT", 25),
                "username": env("CYBERQMS_EMAIL_USER"),
                "password": secret("CYBERQMS_EMAIL_PASSWORD"),
                "use_tls": env_bool("CYBERQMS_EMAIL_TLS", default=PRODUCTION),
            }
            if _mail_backend.endswith("smtp.EmailBackend")
            else {}
        ),
    }
}
DEFAULT_FROM_EMAIL = env("CYBERQMS_EMAIL_FROM", "cyberqms@localhost")
# Notifications: e-mail copies of the in-app inbox (on by default, through MAILERS above),
# the address their links start with (empty: links are paths), and how often the overdue
# scan runs (seconds; it tells each owner once a day per overdue record).
CYBERQMS_NOTIFY_EMAIL = env_bool("CYBERQMS_NOTIFY_EMAIL", default=True)
CYBERQMS_BASE_URL = env("CYBERQMS_BASE_URL", "")
CYBERQMS_OVERDUE_SCAN_INTERVAL = float(env("CYBERQMS_OVERDUE_SCAN_INTERVAL", "3600"))

TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}

LANGUAGE_CODE = "en-us"
TIME_ZONE = env("CYBERQMS_TIME_ZONE", "UTC")
USE_I18N = False
USE_TZ = True

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env("CYBERQMS_LOG_LEVEL", "INFO")},
    "loggers": {
        # WeasyPrint reports every layout step at INFO; PDFs are routine here.
        "weasyprint": {"level": "WARNING"},
        "fontTools": {"level": "WARNING"},
        # Axes logs usernames and addresses of failures; security events carry them.
        "axes": {"level": "WARNING"},
        "django.request": {"level": "ERROR"},
    },
}

CYBERQMS_ORGANIZATION = env("CYBERQMS_ORGANIZATION", "cyberqms")

# --- audit trail ---------------------------------------------------------------------------
# The signing key lives outside the database; it is generated on first use. Its public half
# (and every retired public key) is kept next to it in "<key file>.pub".
CYBERQMS_TRAIL_KEY_FILE = Path(
    env("CYBERQMS_TRAIL_KEY_FILE", str(DATA_DIR / "trail-signing.key"))
).resolve()
# The key that authenticates every audit entry as written by cyberqms (HMAC, trail/mac.py),
# also outside the database and generated on first use. Whoever can read it can forge
# entries: keep it with the signing key, readable only by the application's user.
CYBERQMS_TRAIL_MAC_KEY_FILE = Path(
    env("CYBERQMS_TRAIL_MAC_KEY_FILE", str(DATA_DIR / "trail-authenticator.key"))
).resolve()
# The log's name in its signed checkpoints (C2SP "origin"); set it to your domain once,
# before the first entry: it can never change afterwards.
CYBERQMS_TRAIL_ORIGIN = env("CYBERQMS_TRAIL_ORIGIN", "cyberqms.local/trail")
# Seconds between seals when there are new entries, and between incremental verifications.
CYBERQMS_TRAIL_SEAL_INTERVAL = float(env("CYBERQMS_TRAIL_SEAL_INTERVAL", "1"))
CYBERQMS_TRAIL_VERIFY_INTERVAL = float(env("CYBERQMS_TRAIL_VERIFY_INTERVAL", "3600"))
CYBERQMS_TRAIL_FULL_VERIFY_INTERVAL = float(env("CYBERQMS_TRAIL_FULL_VERIFY_INTERVAL", "86400"))
# Seconds a scheduler process holds its lease without renewing it: the one that runs the
# periodic jobs; a standby takes over this long after the holder stopped answering (at once
# after a clean stop). See docs/operations.md, "Several processes and nodes".
CYBERQMS_SCHEDULER_LEASE_SECONDS = env_int("CYBERQMS_SCHEDULER_LEASE_SECONDS", 15, minimum=3)
# Witnesses: where each signed checkpoint is also kept, outside the database, so that a
# database restored from an older copy (or cut back) is noticed (docs/audit-trail.md).
# Directories (comma-separated; a remote mount, a WORM share) get the newest checkpoint as
# a file; the local one next to the key is always kept. HTTP witnesses speak C2SP
# tlog-witness: comma-separated "<submission URL> <witness cosignature key>" items.
CYBERQMS_TRAIL_WITNESS_DIRS = [
    Path(d.strip()).resolve() for d in env("CYBERQMS_TRAIL_WITNESS_DIRS").split(",")
    if d.strip()
]
CYBERQMS_TRAIL_WITNESSES = [
    w.strip() for w in env("CYBERQMS_TRAIL_WITNESSES").split(",") if w.strip()
]
# Seconds between publications of the newest checkpoint to the witnesses and the SIEM.
CYBERQMS_TRAIL_WITNESS_INTERVAL = float(env("CYBERQMS_TRAIL_WITNESS_INTERVAL", "60"))
# Audit actions (shell-style patterns) whose entries must carry a reason.
CYBERQMS_TRAIL_REASON_REQUIRED = [
    p.strip()
    for p in env(
        "CYBERQMS_TRAIL_REASON_REQUIRED",
        "*.update,*.deactivate,*.reactivate,*.revoke,*.reset_password,*.unlock,*.delete,"
        "*.rotate,*.resolve",
    ).split(",")
    if p.strip()
]
# Quality records: late entries (AL-03) and attachments (encrypted at rest, AES-256-GCM).
CYBERQMS_LATE_ENTRY_HOURS = env_int("CYBERQMS_LATE_ENTRY_HOURS", 72, minimum=1)
CYBERQMS_ATTACHMENT_KEY = secret(
    "CYBERQMS_ATTACHMENT_KEY", generate_into=DATA_DIR / "attachment.key"
)
# Backups (platform/backups): the folder they are written to (a mounted remote store in
# production) and the key they are encrypted with, 32 random bytes made on first use. Keep
# the key file apart from the backups: it is never inside one.
CYBERQMS_BACKUP_DIR = Path(env("CYBERQMS_BACKUP_DIR", str(DATA_DIR / "backups")))
CYBERQMS_BACKUP_KEY_FILE = Path(env("CYBERQMS_BACKUP_KEY_FILE", str(DATA_DIR / "backup.key")))
# The schedule (docs/backups.md): a backup every CYBERQMS_BACKUP_HOURS (0: none scheduled),
# a restore test of the newest every CYBERQMS_RESTORE_TEST_DAYS; retention keeps the newest
# backup of each of the last KEEP_DAILY days and of each of the last KEEP_MONTHLY months.
CYBERQMS_BACKUP_HOURS = env_int("CYBERQMS_BACKUP_HOURS", 24, minimum=0)
CYBERQMS_RESTORE_TEST_DAYS = env_int("CYBERQMS_RESTORE_TEST_DAYS", 7, minimum=1)
CYBERQMS_BACKUP_KEEP_DAILY = env_int("CYBERQMS_BACKUP_KEEP_DAILY", 7, minimum=1)
CYBERQMS_BACKUP_KEEP_MONTHLY = env_int("CYBERQMS_BACKUP_KEEP_MONTHLY", 12, minimum=0)
# Attack drills (security/drills): scenario files of the drill catalogue, and the targets
# a drill's scorecard holds its times to detect and to acknowledge against.
CYBERQMS_DRILL_SCENARIO_DIR = Path(
    env("CYBERQMS_DRILL_SCENARIO_DIR", str(DATA_DIR / "drill-scenarios")))
CYBERQMS_DRILL_DETECT_MINUTES = env_int("CYBERQMS_DRILL_DETECT_MINUTES", 15, minimum=1)
CYBERQMS_DRILL_ACKNOWLEDGE_MINUTES = env_int("CYBERQMS_DRILL_ACKNOWLEDGE_MINUTES", 60,
                                             minimum=1)
# cyberqms's own entry in the system inventory (its number or title): its restore tests are
# of that system, against its RTO. Empty: the system in use whose title starts "cyberqms".
CYBERQMS_SYSTEM = env("CYBERQMS_SYSTEM")
CYBERQMS_ATTACHMENT_MAX_BYTES = env_int(
    "CYBERQMS_ATTACHMENT_MAX_BYTES", 20 * 1024 * 1024, minimum=1024
)
CYBERQMS_ATTACHMENT_TYPES = env_list(
    "CYBERQMS_ATTACHMENT_TYPES",
    ["pdf", "png", "jpg", "jpeg", "txt", "csv", "json", "xml", "docx", "xlsx", "log", "zip"],
)
# Archives and Office files are unpacked to check them (kit.file_checks): refused past this
# many bytes unpacked (an archive bomb) or this many files.
CYBERQMS_ATTACHMENT_MAX_EXPANDED_BYTES = env_int(
    "CYBERQMS_ATTACHMENT_MAX_EXPANDED_BYTES", 100 * 1024 * 1024, minimum=1024)
CYBERQMS_ATTACHMENT_MAX_MEMBERS = env_int("CYBERQMS_ATTACHMENT_MAX_MEMBERS", 5000, minimum=1)
# A PDF longer than this is refused (its text is read, and each page stamped on copies).
CYBERQMS_DOCUMENT_MAX_PAGES = env_int("CYBERQMS_DOCUMENT_MAX_PAGES", 2000, minimum=1)
# Document control: the types whose revision needs an approved change control, and the
# periodic review interval per type in months ("sop=24,pol=36"; the rest 24).
CYBERQMS_DOCUMENT_CHANGE_CONTROL = env_list(
    "CYBERQMS_DOCUMENT_CHANGE_CONTROL", ["pol", "sop", "spec", "val"])
CYBERQMS_DOCUMENT_REVIEW_MONTHS = env_months(
    "CYBERQMS_DOCUMENT_REVIEW_MONTHS",
    ["pol=36", "sop=24", "wi=24", "frm=36", "spec=36", "val=60"])
# Computerized systems (A11-18): months between periodic evaluations, by criticality.
CYBERQMS_SYSTEM_EVALUATION_MONTHS = env_months(
    "CYBERQMS_SYSTEM_EVALUATION_MONTHS", ["high=12", "medium=24", "low=36"])
# A11D-03: days after which an entered security-posture fact is due again (the same
# `key=number` form as the months above).
CYBERQMS_POSTURE_MAX_AGE_DAYS = env_months(
    "CYBERQMS_POSTURE_MAX_AGE_DAYS",
    ["patch_level=90", "vulnerability_scan=90", "penetration_test=365", "network_zone=365",
     "access_review=180", "restore_test=365"])
# Suppliers (A11-03): an agreement expiring within this many days is a task.
CYBERQMS_SUPPLIER_AGREEMENT_WARNING_DAYS = env_int(
    "CYBERQMS_SUPPLIER_AGREEMENT_WARNING_DAYS", 60)
# How often the scheduler makes approved documents effective on their date (seconds).
CYBERQMS_DOCUMENT_EFFECTIVE_INTERVAL = float(env("CYBERQMS_DOCUMENT_EFFECTIVE_INTERVAL", "300"))
# The syslog listener (`cyberqms syslog`, started by `make serve`): address and ports; 0 turns
# a receiver off.
CYBERQMS_SYSLOG_HOST = env("CYBERQMS_SYSLOG_HOST", "127.0.0.1")
CYBERQMS_SYSLOG_UDP_PORT = env_int("CYBERQMS_SYSLOG_UDP_PORT", 5514)
CYBERQMS_SYSLOG_TCP_PORT = env_int("CYBERQMS_SYSLOG_TCP_PORT", 5514)
# Forwarding cyberqms's own security events to a SIEM as syslog (RFC 5424) with CEF payloads:
# host:port (empty: off); udp, tcp (RFC 6587 octet counting) or tls (RFC 5425); the CA file
# that signed the SIEM's certificate (tls; empty: the system's trust store); the HOSTNAME the
# messages carry (empty: this machine's name).
CYBERQMS_SIEM_ADDRESS = env("CYBERQMS_SIEM_ADDRESS").strip()
CYBERQMS_SIEM_PROTOCOL = env("CYBERQMS_SIEM_PROTOCOL", "tls").strip().lower()
if CYBERQMS_SIEM_PROTOCOL not in {"udp", "tcp", "tls"}:
    raise ImproperlyConfigured(
        f"CYBERQMS_SIEM_PROTOCOL must be udp, tcp or tls, not {CYBERQMS_SIEM_PROTOCOL!r}"
    )
CYBERQMS_SIEM_CA_FILE = env("CYBERQMS_SIEM_CA_FILE")
CYBERQMS_SIEM_HOSTNAME = env("CYBERQMS_SIEM_HOSTNAME")
# Detection's clock (docs/detection.md): an event dated more than MAX_SKEW seconds ahead of
# its receipt is processed on its receive time (and its source flagged); one older than
# MAX_LATENESS seconds is processed on its receive time and counted as late.
CYBERQMS_DETECT_MAX_SKEW = env_int("CYBERQMS_DETECT_MAX_SKEW", 300)
CYBERQMS_DETECT_MAX_LATENESS = env_int("CYBERQMS_DETECT_MAX_LATENESS", 86_400)
# Where detection runs (docs/operations.md, "Several processes and nodes"): "detector" (web
# workers, syslog listeners and workers keep and parse what they receive; the scheduler that
# holds the lease runs detection over it, every CYBERQMS_DETECT_INTERVAL seconds, with the
# one set of correlation windows and baselines) or "inline" (each batch is detected as it
# is received, in the receiving process: for a site where one process receives events).
CYBERQMS_DETECTION = env("CYBERQMS_DETECTION", "detector").strip().lower()
if CYBERQMS_DETECTION not in {"detector", "inline"}:
    raise ImproperlyConfigured(
        f"CYBERQMS_DETECTION must be detector or inline, not {CYBERQMS_DETECTION!r}")
CYBERQMS_DETECT_INTERVAL = float(env("CYBERQMS_DETECT_INTERVAL", "0.5"))
# cyberqms's own security events feed the monitoring pipeline (through the worker).
CYBERQMS_MONITOR_OWN_EVENTS = env_bool("CYBERQMS_MONITOR_OWN_EVENTS", default=True)
# Security monitoring: a folder of extra Sigma rules loaded next to the shipped GxP pack.
CYBERQMS_SIGMA_RULES_DIR = env("CYBERQMS_SIGMA_RULES_DIR") or None
# How long received security events are kept (docs/monitoring.md, "Retention"): days per
# source kind, "default" for the kinds not named, "forever" to keep them, e.g.
# "default=365,firewall=90,scada=730". The events an alert names are kept with the alert.
CYBERQMS_EVENT_RETENTION = env("CYBERQMS_EVENT_RETENTION", "default=365")
CYBERQMS_EVENT_RETENTION_INTERVAL = env_int("CYBERQMS_EVENT_RETENTION_INTERVAL", 86_400,
                                            minimum=60)
# Behaviour baselines (security/detect/baseline/, docs/baselines.md): per-user and per-system
# anomaly alerts, thresholds tuned to about this many alerts a day; a subject alerts only
# after its learning period; at first use a process warms them from the stored events.
CYBERQMS_BASELINE_ENABLED = env_bool("CYBERQMS_BASELINE_ENABLED", default=True)
CYBERQMS_BASELINE_ALERTS_PER_DAY = env_int("CYBERQMS_BASELINE_ALERTS_PER_DAY", 5, minimum=1)
CYBERQMS_BASELINE_LEARNING_DAYS = env_int("CYBERQMS_BASELINE_LEARNING_DAYS", 7, minimum=1)
CYBERQMS_BASELINE_WARMUP_DAYS = env_int("CYBERQMS_BASELINE_WARMUP_DAYS", 14)
CYBERQMS_BASELINE_WARMUP_EVENTS = env_int("CYBERQMS_BASELINE_WARMUP_EVENTS", 200_000)
# A new alert at or above this level opens a security incident by itself (CYB-05), through
# the worker; "" turns automatic escalation off.
CYBERQMS_AUTO_ESCALATE_LEVEL = env("CYBERQMS_AUTO_ESCALATE_LEVEL", "critical").strip().lower()
if CYBERQMS_AUTO_ESCALATE_LEVEL not in {"", "informational", "low", "medium", "high",
                                        "critical"}:
    raise ImproperlyConfigured(
        "CYBERQMS_AUTO_ESCALATE_LEVEL must be informational, low, medium, high, critical "
        f"or empty (off), not {CYBERQMS_AUTO_ESCALATE_LEVEL!r}"
    )
# `flush` wipes the audit trail; it is refused unless this is set (the test suite sets it).
CYBERQMS_ALLOW_FLUSH = False
