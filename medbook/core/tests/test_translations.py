"""X-5: English and Hungarian interfaces and emails.

The Hungarian catalogue is locale/hu/LC_MESSAGES/django.po, filled from the table in scripts/translate_hu.py.
When a test here lists untranslated msgids, add them to that table and re-run:

    .venv/bin/python manage.py makemessages -l hu --ignore=.venv --ignore=node_modules --ignore=var --no-obsolete
    .venv/bin/python scripts/translate_hu.py
    .venv/bin/python manage.py compilemessages -l hu --ignore=.venv --ignore=node_modules
"""

import re
from pathlib import Path

import pytest
from django.conf import settings
from django.db import transaction
from django.urls import reverse
from django.utils import translation

from medbook.accounts.services import set_password_url
from medbook.notifications.services import notification_enqueue

PO_FILE = Path(settings.BASE_DIR) / "locale" / "hu" / "LC_MESSAGES" / "django.po"
MO_FILE = PO_FILE.with_suffix(".mo")
HOW_TO_FIX = "add them to TRANSLATIONS in scripts/translate_hu.py, run it, then compilemessages"

# --- a small PO reader, independent of the script that writes the file --------------------------------

_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", '"': '"', "\\": "\\"}
_LINE = re.compile(r'^(msgctxt|msgid_plural|msgid|msgstr(?:\[\d+\])?)?\s*"(.*)"\s*$')
_PLACEHOLDER = re.compile(r"%(?:\([^)]+\))?[-#0 +]*(?:\*|\d+)?(?:\.(?:\*|\d+))?[diouxXeEfFgGcrsa%]")


def _unescape(text: str) -> str:
    return re.sub(r"\\(.)", lambda m: _ESCAPES.get(m.group(1), m.group(1)), text)


def _po_entries(path: Path = PO_FILE) -> list[dict]:
    """Each entry as {"flags": set, "msgid": str, "msgid_plural": str, "msgstr": str, "msgstr[0]": str, ...}."""
    entries = []
    for block in re.split(r"\n[ \t]*\n", path.read_text(encoding="utf-8").strip()):
        entry, keyword = {"flags": set()}, None
        for line in block.splitlines():
            if line.startswith("#~"):
                entry["obsolete"] = True
            elif line.startswith("#,"):
                entry["flags"] |= {flag.strip() for flag in line[2:].split(",")}
            elif not line.startswith("#") and (match := _LINE.match(line)):
                keyword = match.group(1) or keyword
                entry[keyword] = entry.get(keyword, "") + _unescape(match.group(2))
        if "msgid" in entry and not entry.get("obsolete"):
            entries.append(entry)
    return entries


def _translations(entry: dict) -> list[str]:
    return [value for key, value in entry.items() if key.startswith("msgstr")]


def _placeholders(text: str) -> list[str]:
    return sorted(found for found in _PLACEHOLDER.findall(text) if found != "%%")


# --- the catalogue -------------------------------------------------------------------------------------


def test_x5_every_msgid_has_a_hungarian_translation_and_none_is_fuzzy():
    entries = _po_entries()
    header, messages = entries[0], entries[1:]
    assert header["msgid"] == "" and "fuzzy" not in header["flags"], "the .po header is marked fuzzy"
    assert "Language: hu\n" in header["msgstr"]
    assert "charset=UTF-8" in header["msgstr"]
    assert "Plural-Forms: nplurals=2; plural=(n != 1);" in header["msgstr"]
    assert len(messages) > 500  # makemessages ran over the whole project

    untranslated = [e["msgid"] for e in messages if not all(_translations(e)) or not _translations(e)]
    fuzzy = [e["msgid"] for e in messages if "fuzzy" in e["flags"]]
    incomplete_plurals = [
        e["msgid"] for e in messages if "msgid_plural" in e and not {"msgstr[0]", "msgstr[1]"} <= e.keys()
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
            "plural msgid(s) without both forms:\n  " + "\n  ".join(map(repr, incomplete_plurals))
        )
    assert not problems, "\n".join(problems) + f"\n({HOW_TO_FIX})"


def test_x5_hungarian_texts_keep_every_placeholder_of_the_english():
    wrong = []
    for entry in _po_entries()[1:]:
        if "python-format" not in entry["flags"]:
            continue
        sources = [entry["msgid"], entry.get("msgid_plural", entry["msgid"])]
        for index, text in enumerate(_translations(entry)):
            source = sources[min(index, 1)]
            if text and _placeholders(text) != _placeholders(source):
                wrong.append(f"{entry['msgid']!r}: {_placeholders(source)} -> {text!r}")
    assert not wrong, "placeholders lost or added:\n  " + "\n  ".join(wrong)


def test_x5_compiled_catalogue_is_up_to_date_with_the_po_file():
    assert MO_FILE.exists(), "locale/hu/LC_MESSAGES/django.mo is missing: run compilemessages -l hu"
    stale = []
    with translation.override("hu"):
        for entry in _po_entries()[1:]:
            if "msgctxt" in entry or "msgid_plural" in entry or not entry["msgstr"]:
                continue
            if translation.gettext(entry["msgid"]) != entry["msgstr"]:
                stale.append(entry["msgid"])
    assert not stale, (
        f"{len(stale)} translation(s) in django.po are not in django.mo (run compilemessages -l hu):\n  "
        + "\n  ".join(map(repr, stale))
    )


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
