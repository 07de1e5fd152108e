"""Screenshots of the desk pages from the demo data (make screens): Book to partner, the reception
calendar and the day agenda at 1366 px and 375 px, into docs/screens/. Starts its own server on a free port of 127.0.0.1."""

import os
import secrets
import socket
import subprocess
import sys
import time
import urllib.request
from datetime import date, timedelta
from pathlib import Path

from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "docs" / "screens"
PASSWORD = "Demo-pass-2026"
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
SHOTS = (
    (
        "reception@northside.example",
        "reception-calendar",
        "/calendar/?location={central}&service={service}&week={week}",
    ),
    ("agent@callcenter.example", "book-to-partner", "/partner/book/?show=1&week={week}"),
    # The desk's day agenda (issue 23) on next Monday, every physician of Northside Central side by side.
    (
        "reception@northside.example",
        "day-agenda",
        "/agenda/?location={central}&service={service}&date={week}",
    ),
)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def manage(*args: str, env: dict) -> str:
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, check=True, capture_output=True, text=True
    ).stdout


def wait_until_up(url: str, deadline: float) -> None:
    """Poll the login page until the server answers (bounded)."""
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    raise SystemExit(f"the server at {url} did not start")


def main() -> None:
    port = free_port()
    database = ROOT / "var" / "screens.sqlite3"
    database.parent.mkdir(exist_ok=True)
    database.unlink(missing_ok=True)
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings",
        "DEBUG": "true",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "REQUIRE_2FA_FOR_ADMINS": "false",
        "DATABASE_URL": f"sqlite:///{database}",
        "SITE_URL": f"http://127.0.0.1:{port}",
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
    }
    manage("migrate", "--noinput", env=env)
    manage("seed_demo", env=env)
    ids = manage(
        "shell",
        "-c",
        "from medbook.institutions.models import Location, Service;"
        "print(Location.objects.get(name='Northside Central').pk,"
        " Service.objects.filter(institution__name='Northside Clinic', locations__name='Northside Central')"
        ".order_by('name').first().pk)",
        env=env,
    ).split()[-2:]
    server = subprocess.Popen(
        [sys.executable, "manage.py", "runserver", f"127.0.0.1:{port}", "--noreload"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    today = date.today()
    week = (today + timedelta(days=7 - today.weekday())).isoformat()  # next Monday: a working week
    try:
        wait_until_up(f"{base}/accounts/login/", time.monotonic() + 60)
        OUT.mkdir(parents=True, exist_ok=True)
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=os.environ.get("CHROMIUM", "/usr/bin/chromium"), args=ARGS, headless=True
            )
            for email, name, path in SHOTS:
                for width, height in ((1366, 900), (375, 1600)):
                    context = browser.new_context(viewport={"width": width, "height": height})
                    page = context.new_page()
                    page.goto(f"{base}/accounts/login/")
                    page.get_by_label("Email").fill(email)
                    page.get_by_label("Password").fill(PASSWORD)
                    page.get_by_label("Password").press("Enter")
                    page.wait_for_url(lambda url: "/accounts/login/" not in url)
                    page.goto(base + path.format(central=ids[0], service=ids[1], week=week))
                    try:
                        page.locator(".slot:visible").first.wait_for()
                    except Exception:
                        page.screenshot(path=str(OUT / f"failed-{name}-{width}.png"))
                        raise
                    target = OUT / f"{name}-{width}.png"
                    page.screenshot(path=str(target))
                    print(target.relative_to(ROOT))
                    context.close()
            browser.close()
    finally:
        server.terminate()
        server.wait(timeout=30)
        database.unlink(missing_ok=True)


if __name__ == "__main__":
    main()
