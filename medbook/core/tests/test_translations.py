"""X-5: English and Hungarian interfaces and emails.

locale/hu/LC_MESSAGES/django.po is the source of the Hungarian translations: edit it directly or with any
gettext tool (Poedit, Weblate). When a test here lists untranslated, fuzzy or stale msgids, translate them
there and re-run (from the project root), then commit django.po and django.mo together:

    .venv/bin/python manage.py makemessages -l hu --ignore=.venv --ignore=node_modules --ignore=var --no-obsolete
    .venv/bin/python manage.py compilemessages -l hu --ignore=.venv --ignore=node_modules
"""

import re
import shutil
from functools import cache
from io import StringIO
from pathlib import Path

import polib
import pytest
from django.conf import settings
from django.core.management import CommandError, call_command
from django.db import transaction
from django.urls import reverse
from django.utils import translation

from medbook.accounts.services import set_password_url
from medbook.notifications.services import notification_enqueue

PO_FILE = Path(settings.BASE_DIR) / "locale" / "hu" / "LC_MESSAGES" / "django.po"
MO_FILE = PO_FILE.with_suffix(".mo")
PLURAL_FORMS = "nplurals=2; plural=(n != 1);"
NPLURALS = 2
HOW_TO_FIX = "translate them in locale/hu/LC_MESSAGES/django.po, then run compilemessages -l hu"

_PERCENT = re.compile(r"%(?:\([^)]+\))?[-#0 +]*(?:\*|\d+)?(?:\.(?:\*|\d+))?[diouxXeEfFgGcrsa%]")
_NAMED = re.compile(r"%\([^)]+\)[-#0 +]*\d*(?:\.\d+)?[diouxXeEfFgGcrsa]")
_BRACE = re.compile(r"\{[^{}]*\}")


@cache
def _catalogue() -> polib.POFile:
    return polib.pofile(str(PO_FILE))


def _messages(catalogue: polib.POFile) -> list[polib.POEntry]:
    return [entry for entry in catalogue if not entry.obsolete]


def _placeholders(text: str, flags: list[str]) -> list[str]:
    """The placeholders of `text` that its translation must keep, sorted."""
    if "python-format" in flags:
        found = [directive for directive in _PERCENT.findall(text) if directive != "%%"]
    elif "no-python-format" in flags:
        found = []
    else:  # xgettext did not take it for a format string, but a %(name)s in it is still filled in
        found = _NAMED.findall(text)
    if "python-brace-format" in flags:
        found += _BRACE.findall(text.replace("{{", "").replace("}}", ""))
    return sorted(found)


def _placeholder_problems(catalogue: polib.POFile) -> list[str]:
    """One line per translation that loses, adds or changes a placeholder of its msgid."""
    problems = []
    for entry in _messages(catalogue):
        if entry.msgid_plural:
            sources, texts = [entry.msgid, entry.msgid_plural], sorted(entry.msgstr_plural.items())
        else:
            sources, texts = [entry.msgid], [(0, entry.msgstr)]
        for index, text in texts:
            source = sources[min(index, len(sources) - 1)]
            wanted, got = _placeholders(source, entry.flags), _placeholders(text, entry.flags)
            if text and wanted != got:  # an empty msgstr is reported as untranslated
                problems.append(f"{entry.msgid!r}: {wanted} -> {text!r} has {got}")
    return problems


def _compilemessages(po_file: Path, tmp_path: Path, test_settings, monkeypatch) -> str:
    """Run compilemessages -l hu on a copy of `po_file` under `tmp_path`; return its errors ("" if none)."""
    if shutil.which("msgfmt") is None:
        pytest.skip("GNU gettext is not installed (compilemessages needs msgfmt)")
    messages = tmp_path / "locale" / "hu" / "LC_MESSAGES"
    messages.mkdir(parents=True)
    shutil.copy(po_file, messages / "django.po")
    test_settings.LOCALE_PATHS = [tmp_path / "locale"]  # never the project's own locale/
    monkeypatch.chdir(tmp_path)
    errors = StringIO()
    try:
        call_command("compilemessages", locale=["hu"], stdout=StringIO(), stderr=errors)
    except CommandError as error:
        return f"{error}\n{errors.getvalue()}"
    assert (messages / "django.mo").exists()
    return errors.getvalue()


def _compiled_form(entries) -> dict:
    """What msgfmt keeps of each entry, keyed by (msgctxt, msgid)."""
    return {(entry.msgctxt, entry.msgid): (entry.msgstr, dict(entry.msgstr_plural)) for entry in entries}


# --- the catalogue -------------------------------------------------------------------------------------


def test_x5_catalogue_header_is_hungarian_utf8_with_two_plural_forms():
    catalogue = _catalogue()
    assert not catalogue.metadata_is_fuzzy, "the .po header is marked fuzzy"
    assert catalogue.metadata["Language"] == "hu"
    assert "charset=UTF-8" in catalogue.metadata["Content-Type"]
    assert catalogue.metadata["Plural-Forms"] == PLURAL_FORMS
    assert len(_messages(catalogue)) > 500  # makemessages ran over the whole project


def test_x5_every_msgid_has_a_hungarian_translation_and_none_is_fuzzy():
    messages = _messages(_catalogue())
    fuzzy = [entry.msgid for entry in messages if entry.fuzzy]
    untranslated = [entry.msgid for entry in messages if not entry.fuzzy and not entry.translated()]
    incomplete_plurals = [
        entry.msgid
        for entry in messages
        if entry.msgid_plural and sorted(entry.msgstr_plural) != list(range(NPLURALS))
    ]
    problems = []
    if untranslated:
        problems.append(
            f"{len(untranslated)} untranslated msgid(s):\n  " + "\n  ".join(map(repr, untranslated))
        )
    if fuzzy:
        problems.append(f"{len(fuzzy)} fuzzy msgid(s):\n  " + "\n  ".join(map(repr, fuzzy)))
    if incomplete_plurals:
        problems.append(
            f"plural msgid(s) without exactly {NPLURALS} forms:\n  "
            + "\n  ".join(map(repr, incomplete_plurals))
        )
    assert not problems, "\n".join(problems) + f"\n({HOW_TO_FIX})"


def test_x5_hungarian_texts_keep_every_placeholder_of_the_english():
    problems = _placeholder_problems(_catalogue())
    assert not problems, "placeholders lost or added:\n  " + "\n  ".join(problems)


def test_x5_catalogue_compiles_with_compilemessages(tmp_path, settings, monkeypatch):
    errors = _compilemessages(PO_FILE, tmp_path, settings, monkeypatch)
    assert not errors, f"compilemessages -l hu fails on django.po:\n{errors}"


MISMATCHED_PLACEHOLDERS = pytest.mark.parametrize(
    ("flag", "msgid", "msgstr"),
    [
        ("python-format", "Hello %(name)s", "Szia %(nev)s"),
        ("python-format", "Hello %(name)s, you have %(count)d", "Szia, %(count)d"),
        ("python-brace-format", "Hello {name}", "Szia {nev}"),
    ],
)


def _one_entry_po_file(folder: Path, flag: str, msgid: str, msgstr: str) -> Path:
    """A catalogue with the real header and one entry, written under `folder`."""
    catalogue = polib.POFile()
    catalogue.metadata = dict(_catalogue().metadata)
    catalogue.append(polib.POEntry(msgid=msgid, msgstr=msgstr, flags=[flag]))
    folder.mkdir()
    path = folder / "one.po"
    catalogue.save(str(path))
    return path


@MISMATCHED_PLACEHOLDERS
def test_x5_the_placeholder_check_catches_a_mismatch(tmp_path, flag, msgid, msgstr):
    broken = polib.pofile(str(_one_entry_po_file(tmp_path / "broken", flag, msgid, msgstr)))
    problems = _placeholder_problems(broken)
    assert len(problems) == 1 and problems[0].startswith(repr(msgid))
    assert not _placeholder_problems(
        polib.pofile(str(_one_entry_po_file(tmp_path / "good", flag, msgid, msgid)))
    )


@MISMATCHED_PLACEHOLDERS
def test_x5_compilemessages_catches_a_mismatch(tmp_path, settings, monkeypatch, flag, msgid, msgstr):
    good = _one_entry_po_file(tmp_path / "good", flag, msgid, msgid)
    assert _compilemessages(good, tmp_path / "good", settings, monkeypatch) == ""
    broken = _one_entry_po_file(tmp_path / "broken", flag, msgid, msgstr)
    errors = _compilemessages(broken, tmp_path / "broken", settings, monkeypatch)
    assert "compilemessages generated one or more errors" in errors


def test_x5_committed_mo_file_matches_the_po_file():
    assert MO_FILE.exists(), "locale/hu/LC_MESSAGES/django.mo is missing: run compilemessages -l hu"
    catalogue, compiled = _catalogue(), polib.mofile(str(MO_FILE))
    expected, found = _compiled_form(catalogue.translated_entries()), _compiled_form(compiled)
    stale = [msgid for (context, msgid), value in expected.items() if found.get((context, msgid)) != value]
    extra = [msgid for _context, msgid in found.keys() - expected.keys()]
    assert not stale and not extra, (
        "django.mo is out of date with django.po (run compilemessages -l hu and commit django.mo):\n"
        f"  {len(stale)} translation(s) missing or different in django.mo: {stale!r}\n"
        f"  {len(extra)} msgid(s) in django.mo only: {extra!r}"
    )
    assert compiled.metadata.get("Plural-Forms") == catalogue.metadata["Plural-Forms"]


@pytest.mark.parametrize(
    ("english", "hungarian"),
    [
        ("Show calendars", "Naptárak megjelenítése"),
        ("Booking source", "Foglalás forrása"),
        ("Traffic Channels", "Forgalmi csatornák"),
        ("Partner Module", "Partner modul"),
        ("Add New Partner", "Új partner hozzáadása"),
        ("Save", "Mentés"),
        ("Book to partner", "Foglalás partnerintézménybe"),
        ("Can book to partner institution", "Foglalhat partnerintézménybe"),
        ("Admin Users", "Adminisztrátor felhasználók"),
        ("Paid at partner", "Partnernél fizetve"),
        ("Partner-submitted statistics", "Partnerek által beküldött statisztika"),
        ("Administration", "Adminisztráció"),
        ("Calendar", "Naptár"),
        ("Patients", "Páciensek"),
        ("TAJ", "TAJ"),
    ],
)
def test_x5_key_interface_strings_are_hungarian(english, hungarian):
    with translation.override("hu"):
        assert translation.gettext(english) == hungarian
    with translation.override("en"):
        assert translation.gettext(english) == english


def test_x5_plural_forms_and_placeholders_work_in_hungarian():
    with translation.override("hu"):
        assert translation.ngettext("%(counter)s booking", "%(counter)s bookings", 1) % {"counter": 1} == (
            "1 foglalás"
        )
        assert translation.ngettext("%(counter)s booking", "%(counter)s bookings", 5) % {"counter": 5} == (
            "5 foglalás"
        )
        assert translation.gettext("Welcome! Your partnership with %(institution)s is active.") % {
            "institution": "Klinika Kft."
        } == ("Üdvözöljük! A(z) Klinika Kft. intézménnyel kötött partnersége aktív.")


# --- pages and emails ----------------------------------------------------------------------------------


def test_x5_login_page_follows_the_browser_language(client, db):
    hungarian = client.get(reverse("accounts:login"), HTTP_ACCEPT_LANGUAGE="hu").content.decode()
    assert '<html lang="hu"' in hungarian
    for text in ("Bejelentkezés", "Jelszó", "E-mail-cím", "Elfelejtette a jelszavát?"):
        assert text in hungarian
    assert "Forgotten your password?" not in hungarian

    english = client.get(reverse("accounts:login"), HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert '<html lang="en"' in english
    assert "Forgotten your password?" in english and "Bejelentkezés" not in english


def _set_password_email(user, language):
    with transaction.atomic():
        return notification_enqueue(
            to=user.email,
            template="set_password",
            context={"user": user, "url": set_password_url(user), "organization": "Institution A"},
            language=language,
            kind="set_password",
            reference=f"user:{user.pk}",
        )


def test_x5_set_password_email_is_written_in_hungarian(cast):
    message = _set_password_email(cast.alice, "hu")

    assert message.language == "hu"
    assert message.subject == "Meghívást kapott: Institution A"
    assert "Kedves Alice Admin!" in message.text_body
    assert "Felhasználóként felvették a(z) Institution A szervezethez." in message.text_body
    assert "Jelszava beállításához nyissa meg ezt a hivatkozást:" in message.text_body
    assert "A hivatkozás egyszer használható, és néhány nap múlva lejár." in message.text_body
    assert "Jelszó beállítása" in message.html_body and "Kedves Alice Admin!" in message.html_body
    for english in ("You have been", "Hello", "The link can be used once"):
        assert english not in message.subject + message.text_body + message.html_body


def test_x5_set_password_email_stays_english_for_english_recipients(cast):
    message = _set_password_email(cast.alice, "en")

    assert message.subject == "You have been invited to Institution A"
    assert "Hello Alice Admin," in message.text_body
    assert "Meghívást" not in message.subject + message.text_body + message.html_body
