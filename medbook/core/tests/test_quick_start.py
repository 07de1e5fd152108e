"""Issue 23, the quick start as a newcomer meets it: `make run` ends on the demo logins (printed once the
server listens, after the seed), the seed's e-mails are filed under var/mail/ and not printed, the runtime
install leaves the test tools to `make test`, and the README names PORT and no link outside the repository."""

import os
import re
import socket
import subprocess
import sys
from io import StringIO
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import call_command

ROOT = Path(settings.BASE_DIR)


def _recipe(target: str) -> tuple[str, str]:
    """The prerequisites and the recipe of a Makefile target."""
    makefile = (ROOT / "Makefile").read_text()
    match = re.search(rf"^{re.escape(target)}:(.*)\n((?:\t.*\n|\n(?=\t))*)", makefile, re.M)
    assert match, target
    return match.group(1), match.group(2)


@pytest.mark.django_db
def test_the_seed_leaves_the_logins_to_the_end_and_they_follow_the_server(settings, tmp_path):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
    settings.EMAIL_FILE_PATH = str(tmp_path / "mail")
    seeded = StringIO()
    call_command("seed_demo", "--no-logins", stdout=seeded)
    assert "Demo data ready" in seeded.getvalue() and "@northside.example" not in seeded.getvalue()

    with socket.socket() as server:  # the development server, listening
        server.bind(("127.0.0.1", 0))
        server.listen()
        printed = StringIO()
        call_command("seed_demo", "--logins-when-up", f"127.0.0.1:{server.getsockname()[1]}", stdout=printed)
    lines = printed.getvalue().strip().splitlines()
    assert f"E-mails are kept as files under {tmp_path / 'mail'}/, not printed." in lines
    assert "reception@northside.example" in printed.getvalue()
    assert lines[-1].split()[0] == "viewer@callcenter.example"  # the last thing on the console

    # make run: the seed without the logins, then the worker, the logins once serving, and the server
    _prerequisites, run = _recipe("run")
    assert run.index("seed_demo --no-logins") < run.index("seed_demo --logins-when-up $(HOST):$(PORT)")
    assert run.index("--logins-when-up") < run.index("runserver $(HOST):$(PORT)")


def test_the_quick_starts_mail_is_filed_under_var_mail_and_not_printed(tmp_path):
    environment = {
        key: value
        for key, value in os.environ.items()
        if key not in ("EMAIL_URL", "DATABASE_URL", "DJANGO_SETTINGS_MODULE")
    }
    environment.update(
        DJANGO_SETTINGS_MODULE="config.settings",
        SECRET_KEY="x",
        AUDIT_SIGNING_KEY="A" * 43 + "=",
        EMAIL_FILE_PATH=str(tmp_path),
    )
    script = (
        "import django; django.setup(); from django.core.mail import send_mail; "
        "send_mail('Set a new password', 'The link.', None, ['someone@example.test'])"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, env=environment, capture_output=True, text=True, check=True
    )
    assert done.stdout == "" and done.stderr == ""
    (filed,) = tmp_path.iterdir()
    assert "Subject: Set a new password" in filed.read_text()


def test_the_runtime_install_has_no_test_tools_and_the_test_targets_install_them():
    _prerequisites, runtime = _recipe("$(VENV)/.installed")
    assert "pip install --quiet -e .\n" in runtime and "[test]" not in runtime
    _prerequisites, tests = _recipe("$(VENV)/.installed-test")
    assert "-e '.[test]'" in tests
    assert "install-test" not in _recipe("run")[0] and "install-test" not in _recipe("serve")[0]
    for target in ("test", "lint", "format", "screens", "bench"):
        assert "install-test" in _recipe(target)[0].split(), target


def test_the_readme_names_port_and_links_nothing_outside_the_repository():
    readme = (ROOT / "README.md").read_text()
    assert "../shared/SPEC.md" not in readme
    assert re.search(r"make run PORT=\d+", readme)
    for target in re.findall(r"\]\(([^)#]+)\)", readme):
        if not target.startswith(("http://", "https://")):
            assert (ROOT / target).exists(), f"the README links {target}, which the repository lacks"
