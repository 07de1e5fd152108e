"""The README's API example in a second shell: `manage.py` finds the keys `make run` wrote under var/ when the
environment gives none and the database is the quick start's own; never once DATABASE_URL names another."""

import environ

from config.keys import quick_start_key


def test_a_second_shell_of_the_quick_start_uses_the_key_make_run_wrote(tmp_path, monkeypatch):
    key = tmp_path / "secret_key"
    key.write_text("the-quick-start-key\n")
    monkeypatch.delenv("SECRET_KEY", raising=False)
    monkeypatch.delenv("DATABASE_URL", raising=False)
    assert quick_start_key(environ.Env(), "SECRET_KEY", key) == "the-quick-start-key"
    monkeypatch.setenv("SECRET_KEY", "from-the-environment")
    assert quick_start_key(environ.Env(), "SECRET_KEY", key) == "from-the-environment"


def test_a_deployment_with_its_own_database_never_takes_the_quick_starts_key(tmp_path, monkeypatch):
    key = tmp_path / "secret_key"
    key.write_text("the-quick-start-key\n")
    monkeypatch.delenv("SECRET_KEY", raising=False)
    monkeypatch.setenv("DATABASE_URL", "postgres://db.example/medbook")
    assert quick_start_key(environ.Env(), "SECRET_KEY", key) == ""
    monkeypatch.delenv("DATABASE_URL")
    assert quick_start_key(environ.Env(), "SECRET_KEY", tmp_path / "none") == ""
