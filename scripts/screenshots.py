#!/usr/bin/env python3
"""Full-page screenshots of a running cyberqms, to look at the product.

    python scripts/screenshots.py --base http://127.0.0.1:8000 --user USER --password PW \\
        [--totp-secret SECRET] --out test-artifacts/shots

Signs in (answering the TOTP step when a secret is given), saves a PNG of each main page
(home, profile, users, the first user's detail and its History tab, sites, security
events, access decisions, integrations, the audit-trail viewer, trail status, trail reviews
and the review form, API docs), signs out and saves the sign-in page. Prints each file
written. Pages the user's roles do not allow (403) are skipped with a note, so running it
once per role covers every page. Exits non-zero with a message when sign-in fails or a page
answers anything else but 200; the other pages are still captured. Uses Debian's Chromium
(/usr/bin/chromium) through Playwright.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import hmac
import struct
import sys
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

CHROMIUM = "/usr/bin/chromium"
LAUNCH_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
LOGIN_PATH = "/accounts/login/"
MFA_PATH = "/accounts/2fa/authenticate/"
USER_LIST_PATH = "/admin-area/users/"
PAGES: list[tuple[str, str]] = [
    ("home", "/"),
    ("profile", "/profile/"),
    ("users", USER_LIST_PATH),
    ("user-detail", ""),  # the first user in the list, found at run time
    ("user-history", ""),  # the same page with its History tab opened
    ("sites", "/admin-area/sites/"),
    ("security-events", "/security/events/"),
    ("access-decisions", "/security/decisions/"),
    ("integrations", "/security/integrations/"),
    ("trail-viewer", "/trail/"),
    ("trail-status", "/trail/status/"),
    ("trail-reviews", "/trail/reviews/"),
    ("trail-review-form", "/trail/reviews/new/"),
    ("api-docs", "/api/v1/docs"),
]
NOT_ALLOWED = 403


class ScreenshotError(Exception):
    """A failure that ends the run with a message and exit status 1."""


def totp_now(secret: str, *, period: int = 30, digits: int = 6) -> str:
    """RFC 6238 code for the base32 ``secret``; waits out a step about to end."""
    remaining = period - time.time() % period
    if remaining < 3:
        time.sleep(remaining + 0.2)
    cleaned = secret.replace(" ", "").upper()
    try:
        key = base64.b32decode(cleaned + "=" * (-len(cleaned) % 8))
    except ValueError as exc:
        raise ScreenshotError(f"--totp-secret is not base32: {exc}") from None
    counter = int(time.time()) // period
    digest = hmac.new(key, struct.pack(">Q", counter), hashlib.sha1).digest()
    offset = digest[-1] & 0x0F
    value = struct.unpack(">I", digest[offset:offset + 4])[0] & 0x7FFFFFFF
    return f"{value % 10**digits:0{digits}d}"


def path_of(url: str) -> str:
    return urlsplit(url).path


def shoot(page: Any, out: Path, name: str) -> Path:
    target = out / f"{name}.png"
    page.screenshot(path=str(target), full_page=True)
    print(target, flush=True)
    return target


def sign_in(page: Any, user: str, password: str, totp_secret: str | None) -> None:
    page.goto(LOGIN_PATH)
    page.fill("input[name=login]", user)
    page.fill("input[name=password]", password)
    with page.expect_navigation():
        page.press("input[name=password]", "Enter")
    path = path_of(page.url)
    if path == MFA_PATH:
        if not totp_secret:
            raise ScreenshotError(f"{user} has two-factor authentication: pass --totp-secret")
        page.fill("input[name=code]", totp_now(totp_secret))
        with page.expect_navigation():
            page.press("input[name=code]", "Enter")
        path = path_of(page.url)
        if path == MFA_PATH:
            raise ScreenshotError("the TOTP code was refused: check --totp-secret and the clock")
    if path in (LOGIN_PATH, "/accounts/inactive/") or page.get_by_test_id("lockout").count():
        raise ScreenshotError(f"sign-in as {user} failed (wrong password, inactive or locked)")
    if path.startswith("/accounts/password/change/"):
        raise ScreenshotError(f"{user} must change the one-time password first; sign in once "
                              "in a browser, then run this again")


def first_user_detail(page: Any) -> str:
    """The address of the first user in the list (the list must be on screen)."""
    link = page.locator(f'table.data tbody a[href^="{USER_LIST_PATH}"]').first
    if not link.count():
        raise ScreenshotError("the user list shows no user to open")
    href = link.get_attribute("href")
    if not href:
        raise ScreenshotError("the first user in the list has no link")
    return str(href)


def capture(base: str, user: str, password: str, totp_secret: str | None, out: Path) -> list[str]:
    """Take every screenshot; returns the problems met on pages (empty when all is well)."""
    from playwright.sync_api import Error as PlaywrightError
    from playwright.sync_api import sync_playwright

    problems: list[str] = []
    out.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=LAUNCH_ARGS)
        try:
            context = browser.new_context(
                base_url=base.rstrip("/"), viewport={"width": 1440, "height": 900}
            )
            context.set_default_timeout(15_000)
            page = context.new_page()
            broken: set[str] = set()
            page.on("response", lambda r: broken.add(f"{r.status} {path_of(r.url)}")
                    if r.status >= 400 and r.request.resource_type != "document" else None)
            try:
                page.goto("/healthz")
            except PlaywrightError as exc:
                reason = exc.message.splitlines()[0]
                raise ScreenshotError(f"cannot reach {base}: {reason}") from None
            sign_in(page, user, password, totp_secret)
            detail = ""
            for name, path in PAGES:
                if name in ("user-detail", "user-history"):
                    if not detail:
                        problems.append(f"{name}: skipped, the user list did not open")
                        continue
                    path = detail
                if name == "user-history":
                    tab = page.get_by_role("tab", name="History")
                    if not tab.count():
                        print(f"note: {name}: no History tab for {user}, skipped",
                              file=sys.stderr)
                        continue
                    tab.click()
                    page.wait_for_load_state("networkidle")
                    page.locator("#tab-history table").wait_for()
                    shoot(page, out, name)
                    continue
                response = page.goto(path)
                page.wait_for_load_state("networkidle")
                status = response.status if response is not None else 0
                if status == NOT_ALLOWED:
                    print(f"note: {name}: {path} is not allowed for {user}, skipped",
                          file=sys.stderr)
                    continue
                if status != 200:
                    problems.append(f"{name}: {path} answered {status}")
                elif path_of(page.url) != path_of(path):
                    problems.append(f"{name}: {path} redirected to {path_of(page.url)}")
                shoot(page, out, name)
                if name == "users" and status == 200:
                    try:
                        detail = first_user_detail(page)
                    except ScreenshotError as exc:
                        problems.append(f"user-detail: {exc}")
            page.goto("/")
            sign_out = page.get_by_role("button", name="Sign out")
            if sign_out.count():
                with page.expect_navigation():
                    sign_out.click()
            else:
                problems.append("sign-out: no Sign out button on the home page")
            context.clear_cookies()
            page.goto(LOGIN_PATH)
            shoot(page, out, "login")
            context.close()
            for item in sorted(broken):
                if not item.endswith("/favicon.ico"):
                    print(f"warning: a page asset failed to load: {item}", file=sys.stderr)
        finally:
            browser.close()
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--base", default="http://127.0.0.1:8000",
                        help="address of the running server (default %(default)s)")
    parser.add_argument("--user", required=True, help="user ID to sign in with")
    parser.add_argument("--password", required=True, help="that user's password")
    parser.add_argument("--totp-secret", default=None,
                        help="base32 TOTP secret, for users with two-factor authentication")
    parser.add_argument("--out", type=Path, default=Path("test-artifacts/shots"),
                        help="folder for the PNG files (default %(default)s)")
    args = parser.parse_args(argv)

    if not Path(CHROMIUM).is_file():
        print(f"error: {CHROMIUM} is missing; install Debian's chromium package "
              "(`make test` does)", file=sys.stderr)
        return 2
    try:
        import playwright  # noqa: F401  # imported only to check that it is installed
    except ImportError:
        print("error: Playwright is not installed; run this with .venv/bin/python "
              "(`make install`)", file=sys.stderr)
        return 2
    try:
        problems = capture(args.base, args.user, args.password, args.totp_secret, args.out)
    except ScreenshotError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except Exception as exc:  # a browser or timeout failure: say what, not a traceback
        print(f"error: {type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}",
              file=sys.stderr)
        return 1
    for problem in problems:
        print(f"error: {problem}", file=sys.stderr)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
