#!/usr/bin/env python3
"""Fill locale/hu/LC_MESSAGES/django.po from the Hungarian translation table below (X-5).

Repeatable workflow (from the project root):

    .venv/bin/python manage.py makemessages -l hu --ignore=.venv --ignore=node_modules --ignore=var --no-obsolete
    .venv/bin/python scripts/translate_hu.py
    .venv/bin/python manage.py compilemessages -l hu --ignore=.venv --ignore=node_modules

The script
  * writes every msgid found in TRANSLATIONS into the .po (the table wins over what the .po holds),
  * drops the "fuzzy" guesses msgmerge makes for new msgids (and their "#|" previous-msgid lines): a msgid
    that is not in the table is left EMPTY so it shows up as untranslated (scripts/translate_hu.py prints
    them, and medbook/core/tests/test_translations.py fails listing them),
  * keeps a translation typed by hand into the .po for a msgid the table does not know, and warns so it
    can be copied into the table,
  * refuses placeholders that differ between msgid and msgstr,
  * sets the header (Language: hu, UTF-8, Plural-Forms) and clears the header's fuzzy flag.

To translate new strings: add them to TRANSLATIONS (a plural msgid maps to a (singular, plural) tuple,
a msgid with context is written "context\\x04msgid"), then re-run the three commands above.
Options: --check (change nothing; exit 1 when something is untranslated), --po PATH.
No third-party packages: the PO reader/writer is below.
"""

import argparse
import re
import sys
from datetime import UTC, datetime
from pathlib import Path

PO_PATH = Path(__file__).resolve().parent.parent / "locale" / "hu" / "LC_MESSAGES" / "django.po"
PLURAL_FORMS = "nplurals=2; plural=(n != 1);"
NPLURALS = 2
LAST_TRANSLATOR = "MedBook team"

# msgids that contain "%" but are never %-formatted (xgettext still flags them python-format, and msgfmt
# --check-format would then demand the same "directive" in the Hungarian text): flagged no-python-format.
NOT_FORMAT_STRINGS = {
    "Commission (% of the service price)",
}

# msgid -> msgstr; plural msgids -> (msgstr[0], msgstr[1]). Hungarian nouns stay singular after a number.
# fmt: off
TRANSLATIONS = {

    # --- settings / accounts ---
    "English": "Angol",
    "Hungarian": "Magyar",
    "MedBook platform administration": "MedBook platformadminisztráció",
    "MedBook operator": "MedBook üzemeltető",
    "Platform data": "Platformadatok",
    "A user with this email already exists.": "Ezzel az e-mail-címmel már létezik felhasználó.",
    "Personal info": "Személyes adatok",
    "Permissions": "Jogosultságok",
    "Important dates": "Fontos dátumok",
    "email": "e-mail-cím",
    "full name": "teljes név",
    "language": "nyelv",
    "active": "aktív",
    "platform operator": "platformüzemeltető",
    "user": "felhasználó",
    "users": "felhasználók",
    "Institution": "Intézmény",
    "Partner": "Partner",
    "kind": "típus",
    "name": "név",
    "registration number": "cégjegyzékszám",
    "tax number": "adószám",
    "address": "cím",
    "country": "ország",
    "organisation": "szervezet",
    "organisations": "szervezetek",
    "Administrator": "Adminisztrátor",
    "Reception": "Recepció",
    "Partner administrator": "Partneradminisztrátor",
    "Partner user": "Partnerfelhasználó",
    "role": "szerepkör",
    "Can book to partner institution": "Foglalhat partnerintézménybe",
    "membership": "tagság",
    "memberships": "tagságok",
    "This person is already a user here.": "Ez a személy már felhasználó itt.",
    "You cannot deactivate yourself.": "Saját magát nem tilthatja le.",
    "You are not a member of that organisation.": "Ön nem tagja ennek a szervezetnek.",
    # --- audit ---
    "when": "időpont",
    "institution": "intézmény",
    "who": "ki",
    "user email": "felhasználó e-mail-címe",
    "acting for": "kinek a nevében",
    "what": "mi történt",
    "object type": "objektum típusa",
    "object id": "objektumazonosító",
    "object": "objektum",
    "from (IP address)": "honnan (IP-cím)",
    "details": "részletek",
    "audit entry": "naplóbejegyzés",
    "audit entries": "naplóbejegyzések",
    # --- core ---
    "The request could not be carried out.": "A kérést nem sikerült végrehajtani.",
    "This slot is no longer available.": "Ez az időpont már nem szabad.",
    "You do not have permission to do this.": "Ehhez nincs jogosultsága.",
    # --- institutions ---
    "%(physician)s does not work at %(location)s.": "%(physician)s nem rendel a(z) %(location)s telephelyen.",
    "A location with this name already exists.": "Ilyen nevű telephely már létezik.",
    "Enter a three-letter currency code, such as HUF or EUR.": "Adjon meg egy hárombetűs pénznemkódot, például HUF vagy EUR.",
    "“Until” must be later than “from”.": "A „Vége” időpontnak későbbinek kell lennie a „Kezdete” időpontnál.",
    "“Valid until” cannot be before “valid from”.": "Az „Érvényes eddig” dátum nem lehet korábbi az „Érvényes ettől” dátumnál.",
    "These hours overlap the physician's hours %(from)s–%(until)s at %(location)s.": "Ez az időszak átfedésben van az orvos %(from)s–%(until)s közötti rendelési idejével a(z) %(location)s telephelyen.",
    "All locations": "Minden telephely",
    "“Until” cannot be before “from”.": "A „Vége” nem lehet korábbi a „Kezdete” időpontnál.",
    "Full name": "Teljes név",
    "Email": "E-mail-cím",
    "Role": "Szerepkör",
    "Language of the emails": "Az e-mailek nyelve",
    "time zone": "időzóna",
    "currency": "pénznem",
    "no-shows earn commission": "a meg nem jelenések után is jár jutalék",
    "institutions": "intézmények",
    "opening hours": "nyitvatartás",
    "location": "telephely",
    "locations": "telephelyek",
    "specialty": "szakterület",
    "physician": "orvos",
    "physicians": "orvosok",
    "duration (minutes)": "időtartam (perc)",
    "price": "ár",
    "service": "szolgáltatás",
    "services": "szolgáltatások",
    "Yes": "Igen",
    "No": "Nem",
    "Locations": "Telephelyek",
    "Add location": "Telephely hozzáadása",
    "Edit location": "Telephely szerkesztése",
    "Physicians": "Orvosok",
    "Add physician": "Orvos hozzáadása",
    "Edit physician": "Orvos szerkesztése",
    "Services": "Szolgáltatások",
    "Add service": "Szolgáltatás hozzáadása",
    "Edit service": "Szolgáltatás szerkesztése",
    "Working hours": "Rendelési idők",
    "Add working hours": "Rendelési idő hozzáadása",
    "Edit working hours": "Rendelési idő szerkesztése",
    "Leave and holidays": "Szabadságok és ünnepnapok",
    "Add leave or holiday": "Szabadság vagy ünnepnap hozzáadása",
    "Edit leave or holiday": "Szabadság vagy ünnepnap szerkesztése",
    "Saved.": "Mentve.",
    "Deleted.": "Törölve.",
    "%(email)s already has an account and can now act for this institution.": "%(email)s már rendelkezik fiókkal, és mostantól eljárhat ennek az intézménynek a nevében.",
    "An invitation to set a password is on its way to %(email)s.": "A jelszó beállítására szóló meghívót elküldtük ide: %(email)s.",
    "Add user": "Felhasználó hozzáadása",
    # --- notifications ---
    "Retry now": "Újraküldés most",
    "%(count)d message will be retried now.": (
        "%(count)d üzenet újraküldése most megtörténik.",
        "%(count)d üzenet újraküldése most megtörténik.",
    ),
    "Pending": "Várakozik",
    "Sending": "Küldés alatt",
    "Sent": "Elküldve",
    "Failed": "Sikertelen",
    "idempotency key": "idempotencia-kulcs",
    "recipient": "címzett",
    "recipient language": "címzett nyelve",
    "subject": "tárgy",
    "text body": "szöveges törzs",
    "HTML body": "HTML-törzs",
    "reference": "hivatkozás",
    "e.g. booking:42": "pl. booking:42",
    "status": "állapot",
    "attempts": "próbálkozások",
    "next attempt": "következő próbálkozás",
    "claimed at": "feldolgozás kezdete",
    "last error": "utolsó hiba",
    "created": "létrehozva",
    "sent": "elküldve",
    "outbox message": "kimenő üzenet",
    "outbox messages": "kimenő üzenetek",
    # --- partners ---
    "Choose a patient or enter the patient's details.": "Válasszon pácienst, vagy adja meg a páciens adatait.",
    "A patient with this TAJ number is registered: find them with the search.": "Ezzel a TAJ-számmal már van regisztrált páciens: keresse meg a keresővel.",
    "These details do not match the institution's records; check the name and TAJ.": "Ezek az adatok nem egyeznek az intézmény nyilvántartásával; ellenőrizze a nevet és a TAJ-számot.",
    "You cannot take away your own administrator role.": "Saját adminisztrátori szerepkörét nem vonhatja vissza.",
    "Hungary": "Magyarország",
    "Austria": "Ausztria",
    "Germany": "Németország",
    "Slovakia": "Szlovákia",
    "Romania": "Románia",
    "United Kingdom": "Egyesült Királyság",
    "Company name": "Cégnév",
    "Country of registration": "Bejegyzés országa",
    "Company registration number": "Cégjegyzékszám",
    "Hungary: Cg. 01-09-123456": "Magyarország: Cg. 01-09-123456",
    "Tax number": "Adószám",
    "Hungary: 12345678-1-23": "Magyarország: 12345678-1-23",
    "Headquarters address": "Székhely címe",
    "Contact person / representative": "Kapcsolattartó / képviselő",
    "Contact email": "Kapcsolattartó e-mail-címe",
    "Contact phone": "Kapcsolattartó telefonszáma",
    "Locations the partner may book at": "Telephelyek, ahová a partner foglalhat",
    "Commission agreement": "Jutalékmegállapodás",
    "Commission (% of the service price)": "Jutalék (a szolgáltatás árának %-a)",
    "or a fixed amount per booking": "vagy foglalásonként fix összeg",
    "Payment location": "Fizetés helye",
    "Access to patient data": "Hozzáférés a páciensadatokhoz",
    "The partner's future bookings": "A partner jövőbeli foglalásai",
    "Keep them (the institution handles them)": "Megmaradnak (az intézmény kezeli őket)",
    "Cancel them and notify the partner": "Lemondás és a partner értesítése",
    "I have read and accept the General Terms and Conditions": "Elolvastam és elfogadom az Általános Szerződési Feltételeket",
    "Your full name": "Az Ön teljes neve",
    "Password": "Jelszó",
    "Password again": "Jelszó még egyszer",
    "The two passwords do not match.": "A két jelszó nem egyezik.",
    "This link is not valid. Check that you copied the whole link from the email.": "Ez a hivatkozás érvénytelen. Ellenőrizze, hogy a teljes hivatkozást másolta-e ki az e-mailből.",
    "This registration link has expired.": "Ez a regisztrációs hivatkozás lejárt.",
    "This registration link has already been used.": "Ezt a regisztrációs hivatkozást már felhasználták.",
    "A newer registration link has been sent; this one no longer works.": "Újabb regisztrációs hivatkozást küldtünk; ez már nem érvényes.",
    "The institution has withdrawn this invitation.": "Az intézmény visszavonta ezt a meghívást.",
    "There is nothing to renew for this link. Contact the institution.": "Ehhez a hivatkozáshoz nincs mit megújítani. Forduljon az intézményhez.",
    "No General Terms and Conditions are published yet. Please contact support.": "Még nincs közzétett Általános Szerződési Feltétel. Kérjük, forduljon az ügyfélszolgálathoz.",
    "The terms have changed in the meantime: read and accept the current version.": "A feltételek időközben megváltoztak: olvassa el és fogadja el a hatályos változatot.",
    "This invitation was sent to another email address. Log out and open it again.": "Ezt a meghívót egy másik e-mail-címre küldték. Jelentkezzen ki, és nyissa meg újra.",
    "An account with this email address already exists: log in, then open the link again.": "Ezzel az e-mail-címmel már létezik fiók: jelentkezzen be, majd nyissa meg újra a hivatkozást.",
    "Choose a password.": "Válasszon jelszót.",
    "registry key": "nyilvántartási kulcs",
    "contact person": "kapcsolattartó",
    "contact email": "kapcsolattartó e-mail-címe",
    "contact phone": "kapcsolattartó telefonszáma",
    "language of the emails": "az e-mailek nyelve",
    "partner": "partner",
    "partners": "partnerek",
    "Pending registration": "Regisztrációra vár",
    "Pending approval": "Jóváhagyásra vár",
    "Active": "Aktív",
    "Declined": "Elutasítva",
    "Ended": "Megszűnt",
    "At the institution": "Az intézménynél",
    "At the partner": "A partnernél",
    "authorised services": "engedélyezett szolgáltatások",
    "commission agreement": "jutalékmegállapodás",
    "commission (%)": "jutalék (%)",
    "commission (fixed amount per booking)": "jutalék (foglalásonkénti fix összeg)",
    "payment location": "fizetés helye",
    "access to patient data": "hozzáférés a páciensadatokhoz",
    "activated": "aktiválva",
    "ended": "megszűnt",
    "partnership": "partnerség",
    "partnerships": "partnerségek",
    "version": "verzió",
    "text": "szöveg",
    "published at": "közzététel ideje",
    "Leave empty for a draft.": "Piszkozat esetén hagyja üresen.",
    "GTC version": "ÁSZF-verzió",
    "GTC versions": "ÁSZF-verziók",
    "accepted at": "elfogadás ideje",
    "IP address": "IP-cím",
    "GTC acceptance": "ÁSZF-elfogadás",
    "GTC acceptances": "ÁSZF-elfogadások",
    "used": "felhasználva",
    "replaced": "lecserélve",
    "partner invitation": "partnermeghívó",
    "partner invitations": "partnermeghívók",
    "token": "token",
    "calendar feed": "naptár-előfizetés",
    "calendar feeds": "naptár-előfizetések",
    "Your organisation may not book this service with this physician at this location.": "Szervezete ezt a szolgáltatást ennél az orvosnál ezen a telephelyen nem foglalhatja.",
    "Administrator (manages users)": "Adminisztrátor (felhasználókat kezel)",
    "Location": "Telephely",
    "Specialty": "Szakterület",
    "Physician": "Orvos",
    "Service": "Szolgáltatás",
    "Week of": "Hét kezdőnapja",
    "All institutions": "Minden intézmény",
    "All specialties": "Minden szakterület",
    "All physicians": "Minden orvos",
    "All services": "Minden szolgáltatás",
    "Note": "Megjegyzés",
    "From": "Ettől",
    "Until": "Eddig",
    "Status": "Állapot",
    "All statuses": "Minden állapot",
    "%(email)s already has an account and can now act for your organisation.": "%(email)s már rendelkezik fiókkal, és mostantól eljárhat az Ön szervezetének nevében.",
    "Permissions of %(name)s": "Jogosultságok – %(name)s",
    "Booked: %(time)s": "Lefoglalva: %(time)s",
    "Choose a patient from the search or enter the patient's details.": "Válasszon pácienst a keresőből, vagy adja meg a páciens adatait.",
    "The booking was moved.": "A foglalás áthelyezve.",
    "The booking was deleted.": "A foglalás törölve.",
    "The calendar feed is switched off.": "A naptár-előfizetés kikapcsolva.",
    "A new calendar feed address was made; the old one no longer works.": "Új naptár-előfizetési címet hoztunk létre; a régi már nem működik.",
    "The partner may not book at this location.": "A partner ezen a telephelyen nem foglalhat.",
    "The partner may not book this service.": "A partner ezt a szolgáltatást nem foglalhatja.",
    "This partner has no partnership with the institution.": "Ennek a partnernek nincs partnersége az intézménnyel.",
    "The partnership is pending: the partner cannot book until it is active.": "A partnerség függőben van: a partner csak az aktiválás után foglalhat.",
    "The partnership has ended or was declined: the partner cannot book.": "A partnerség megszűnt vagy elutasították: a partner nem foglalhat.",
    "The partner must accept the current General Terms and Conditions first.": "A partnernek előbb el kell fogadnia a hatályos Általános Szerződési Feltételeket.",
    "Choose at least one location the partner may book at.": "Válasszon legalább egy telephelyet, ahová a partner foglalhat.",
    "A partner with this registration number is registered with another tax number. Check both.": "Ezzel a cégjegyzékszámmal már van partner regisztrálva, de más adószámmal. Ellenőrizze mindkettőt.",
    "%(partner)s is already a partner of your institution.": "%(partner)s már partnere az Ön intézményének.",
    "This partner was added a moment ago by someone else.": "Ezt a partnert az imént valaki más már felvette.",
    "Only a pending partner can be sent its invitation again.": "Meghívó csak függőben lévő partnernek küldhető újra.",
    "This partnership has ended and can no longer be changed.": "Ez a partnerség megszűnt, már nem módosítható.",
    "Another partner is registered with this registration number.": "Ezzel a cégjegyzékszámmal már egy másik partner van regisztrálva.",
    "This partnership has already ended.": "Ez a partnerség már megszűnt.",
    "This partnership has ended.": "Ez a partnerség megszűnt.",
    "This invitation has already been answered or withdrawn.": "Erre a meghívásra már válaszoltak, vagy visszavonták.",
    "Accept the current General Terms and Conditions first.": "Előbb fogadja el a hatályos Általános Szerződési Feltételeket.",
    "Only legal entities can be partners: %(reason)s": "Csak jogi személy lehet partner: %(reason)s",
    "a sole trader (e.v.) is a natural person.": "az egyéni vállalkozó (e.v.) természetes személy.",
    "enter the company name with its legal form, such as Kft., Zrt., Bt., Nyrt., Ltd or GmbH.": "a cégnevet a cégformával együtt adja meg, például Kft., Zrt., Bt., Nyrt., Ltd vagy GmbH.",
    "The tax number is required.": "Az adószám megadása kötelező.",
    "Enter a valid tax number.": "Adjon meg érvényes adószámot.",
    "This is not a valid tax number in this country.": "Ez nem érvényes adószám ebben az országban.",
    "this is the tax identifier of a private person.": "ez magánszemély adóazonosító jele.",
    "Enter the Hungarian tax number as 12345678-1-23.": "A magyar adószámot 12345678-1-23 formában adja meg.",
    "This Hungarian tax number is not valid (check digit).": "Ez a magyar adószám érvénytelen (hibás ellenőrző számjegy).",
    "The last two digits of the tax number are not a county code.": "Az adószám utolsó két számjegye nem érvényes területi kód.",
    "The registration number is required.": "A cégjegyzékszám megadása kötelező.",
    "Enter the company registration number as Cg. 01-09-123456.": "A cégjegyzékszámot Cg. 01-09-123456 formában adja meg.",
    "Enter a valid company registration number.": "Adjon meg érvényes cégjegyzékszámot.",
    "Enter a valid phone number, such as +36 1 234 5678.": "Adjon meg érvényes telefonszámot, például +36 1 234 5678.",
    "Enter either a percentage or a fixed amount per booking.": "Adjon meg vagy százalékot, vagy foglalásonkénti fix összeget.",
    "Enter either a percentage or a fixed amount, not both.": "Vagy százalékot, vagy fix összeget adjon meg, ne mindkettőt.",
    "The percentage must be between 0 and 100.": "A százaléknak 0 és 100 között kell lennie.",
    "The fixed amount cannot be negative.": "A fix összeg nem lehet negatív.",
    "%(partner)s is already registered: its administrators were asked to approve.": "%(partner)s már regisztrált: az adminisztrátorait jóváhagyásra kértük.",
    "Saved. A registration invitation is on its way to %(email)s.": "Mentve. A regisztrációs meghívót elküldtük ide: %(email)s.",
    "Add New Partner": "Új partner hozzáadása",
    "Modify partner": "Partner módosítása",
    "%(partner)s was deleted: it can no longer book. %(count)s future bookings were cancelled.": "%(partner)s törölve: a továbbiakban nem foglalhat. %(count)s jövőbeli foglalását lemondtuk.",
    "A new invitation is on its way to %(email)s.": "Új meghívót küldtünk ide: %(email)s.",
    "New General Terms and Conditions must be accepted by your administrator first.": "Az új Általános Szerződési Feltételeket előbb az adminisztrátorának el kell fogadnia.",
    "Choose approve or decline.": "Válassza a jóváhagyást vagy az elutasítást.",
    "Approved: you can now book at %(institution)s.": "Jóváhagyva: mostantól foglalhat a(z) %(institution)s intézménynél.",
    "Declined.": "Elutasítva.",
    "Thank you: the terms are accepted.": "Köszönjük: a feltételeket elfogadta.",
    "Welcome! Your partnership with %(institution)s is active.": "Üdvözöljük! A(z) %(institution)s intézménnyel kötött partnersége aktív.",
    # --- patients ---
    "Enter the patient's full name.": "Adja meg a páciens teljes nevét.",
    "The birth date cannot be in the future.": "A születési dátum nem lehet a jövőben.",
    "Enter a valid phone number, e.g. +36 30 123 4567.": "Adjon meg érvényes telefonszámot, pl. +36 30 123 4567.",
    "A patient with this health-insurance number is already registered.": "Ezzel a TAJ-számmal már van regisztrált páciens.",
    "birth date": "születési dátum",
    "phone": "telefonszám",
    "health-insurance id (TAJ)": "TAJ-szám",
    "patient": "páciens",
    "patients": "páciensek",
    "Your organisation has no access to this institution's patient data.": "Szervezete nem fér hozzá ennek az intézménynek a páciensadataihoz.",
    "This is not a valid health-insurance (TAJ) number.": "Ez nem érvényes TAJ-szám.",
    "Patient %(name)s was added.": "Páciens felvéve: %(name)s.",
    # --- reports ---
    "fixed %(amount)s": "fix %(amount)s",
    "Booking": "Foglalás",
    "Date": "Dátum",
    "Time": "Időpont",
    "Price": "Ár",
    "Currency": "Pénznem",
    "Commission rule": "Jutalékszabály",
    "Commission due": "Fizetendő jutalék",
    "Total": "Összesen",
    "Commission statement": "Jutalékkimutatás",
    "Period": "Időszak",
    "Time zone": "Időzóna",
    "Statement": "Kimutatás",
    "All": "Mind",
    "The period must end on or after its first day.": "Az időszak vége nem lehet korábbi az első napjánál.",
    "Choose a period of at most a year.": "Legfeljebb egyéves időszakot válasszon.",
    "Sent by partners only": "Csak a partnerek által beküldött",
    "Only a booking made by a partner can be cancelled from this report.": "Ebből a kimutatásból csak partner által rögzített foglalás mondható le.",
    "The booking was cancelled and the partner notified.": "A foglalást lemondtuk, és a partnert értesítettük.",
    # --- scheduling ---
    "Location, physician, service, patient and channel must belong to the institution.": "A telephelynek, az orvosnak, a szolgáltatásnak, a páciensnek és a csatornának az intézményhez kell tartoznia.",
    "The physician already has an active booking at this time.": "Az orvosnak ebben az időpontban már van aktív foglalása.",
    "Enter a valid date and time.": "Adjon meg érvényes dátumot és időpontot.",
    "Enter a date between 1900 and 2999.": "Adjon meg 1900 és 2999 közötti dátumot.",
    "Booking source": "Foglalás forrása",
    "New time": "Új időpont",
    "code": "kód",
    "traffic channel": "forgalmi csatorna",
    "traffic channels": "forgalmi csatornák",
    "Monday": "Hétfő",
    "Tuesday": "Kedd",
    "Wednesday": "Szerda",
    "Thursday": "Csütörtök",
    "Friday": "Péntek",
    "Saturday": "Szombat",
    "Sunday": "Vasárnap",
    "weekday": "a hét napja",
    "from": "kezdete",
    "until": "vége",
    "valid from": "érvényes ettől",
    "valid until": "érvényes eddig",
    "working hours": "rendelési idő",
    "Leave": "Szabadság",
    "Holiday": "Ünnepnap",
    "Other": "Egyéb",
    "note": "megjegyzés",
    "exception": "kivétel",
    "exceptions": "kivételek",
    "Booked": "Lefoglalva",
    "Cancelled": "Lemondva",
    "Completed": "Teljesítve",
    "No-show": "Nem jelent meg",
    "Unpaid": "Fizetetlen",
    "Paid": "Fizetve",
    "Refunded": "Visszatérítve",
    "Paid at partner": "Partnernél fizetve",
    "starts at": "kezdés",
    "ends at": "befejezés",
    "payment status": "fizetési állapot",
    "booking": "foglalás",
    "bookings": "foglalások",
    "Online": "Online",
    "Phone": "Telefon",
    "The location, physician and service must belong to one institution.": "A telephelynek, az orvosnak és a szolgáltatásnak ugyanahhoz az intézményhez kell tartoznia.",
    "This location, physician or service is not available for booking.": "Ez a telephely, orvos vagy szolgáltatás nem foglalható.",
    "The physician does not work at this location.": "Az orvos nem rendel ezen a telephelyen.",
    "This service is not offered at this location.": "Ez a szolgáltatás ezen a telephelyen nem érhető el.",
    "This physician does not provide this service.": "Ez az orvos nem nyújtja ezt a szolgáltatást.",
    "The start time must carry a time zone.": "A kezdési időpontnak időzónát is tartalmaznia kell.",
    "A booking cannot start in the past.": "Foglalás nem kezdődhet a múltban.",
    "This time is outside the physician's working hours.": "Ez az időpont kívül esik az orvos rendelési idején.",
    "Unknown patient.": "Ismeretlen páciens.",
    "Unknown traffic channel.": "Ismeretlen forgalmi csatorna.",
    "This traffic channel is not in use.": "Ez a forgalmi csatorna nincs használatban.",
    "Only a booked appointment can be moved.": "Csak lefoglalt időpont helyezhető át.",
    "An appointment that has started cannot be moved.": "Már megkezdődött időpont nem helyezhető át.",
    "Only a booked appointment can be cancelled.": "Csak lefoglalt időpont mondható le.",
    "Only a booked appointment can be changed.": "Csak lefoglalt időpont módosítható.",
    "The note can be at most 500 characters.": "A megjegyzés legfeljebb 500 karakter lehet.",
    "%(name)s does not give this service at this location.": "%(name)s ezen a telephelyen nem nyújtja ezt a szolgáltatást.",
    "No physician gives this service at this location.": "Ezen a telephelyen egyetlen orvos sem nyújtja ezt a szolgáltatást.",
    "Choose a location and a service first.": "Előbb válasszon telephelyet és szolgáltatást.",
    "Booked: %(booking)s": "Lefoglalva: %(booking)s",
    "Choose a patient from the register or enter a new patient.": "Válasszon pácienst a nyilvántartásból, vagy adjon meg új pácienst.",
    "The booking was cancelled.": "A foglalás lemondva.",
    # --- error pages / accounts templates ---
    "Not allowed": "Nem engedélyezett",
    "Not found": "Nem található",
    "There is nothing here, or you have no access to it.": "Itt nincs semmi, vagy nincs hozzá hozzáférése.",
    "Hello,": "Tisztelt Felhasználó!",
    "Set a new password": "Új jelszó beállítása",
    "If you did not ask for this, ignore this email.": "Ha nem Ön kérte, hagyja figyelmen kívül ezt az e-mailt.",
    "Open this link to set a new password:": "Új jelszó beállításához nyissa meg ezt a hivatkozást:",
    "Log in": "Bejelentkezés",
    "Forgotten your password?": "Elfelejtette a jelszavát?",
    "Reset password": "Jelszó visszaállítása",
    "Enter your email address and we will send you a link to set a new password.": "Adja meg e-mail-címét, és küldünk egy hivatkozást, amellyel új jelszót állíthat be.",
    "Send link": "Hivatkozás küldése",
    "Password set": "Jelszó beállítva",
    "Set your password": "Jelszó beállítása",
    "Save": "Mentés",
    "This link is no longer valid": "Ez a hivatkozás már nem érvényes",
    "The link has expired or has already been used.": "A hivatkozás lejárt, vagy már felhasználták.",
    "Request a new link": "Új hivatkozás kérése",
    "Check your email": "Nézze meg az e-mailjeit",
    "If an account exists for that address, we have sent a link to set a new password.": "Ha ehhez a címhez tartozik fiók, elküldtük rá az új jelszó beállítására szolgáló hivatkozást.",
    # --- audit templates ---
    "Audit log": "Eseménynapló",
    "Action": "Művelet",
    "Filter": "Szűrés",
    "Nothing has been recorded yet.": "Még nincs rögzített esemény.",
    "When": "Időpont",
    "Who": "Ki",
    "Acting for": "Kinek a nevében",
    "What": "Mi történt",
    "Object": "Objektum",
    "Details": "Részletek",
    "Newer": "Újabbak",
    "Page %(number)s of %(count)s": "%(number)s. oldal (összesen %(count)s)",
    "Older": "Régebbiek",
    # --- base ---
    "Main menu": "Főmenü",
    "Calendar": "Naptár",
    "Patients": "Páciensek",
    "Administration": "Adminisztráció",
    "Traffic Channels": "Forgalmi csatornák",
    "Partner Module": "Partner modul",
    "Users": "Felhasználók",
    "Partner institutions": "Partnerintézmények",
    "Book to partner": "Foglalás partnerintézménybe",
    "My bookings": "Foglalásaim",
    "Admin Users": "Adminisztrátor felhasználók",
    "General Terms and Conditions": "Általános Szerződési Feltételek",
    "Operator": "Üzemeltető",
    "Switch": "Váltás",
    "Log out": "Kijelentkezés",
    "Language": "Nyelv",
    "Change language": "Nyelv váltása",
    "Not possible": "Nem lehetséges",
    "Back to the start page": "Vissza a kezdőlapra",
    "Welcome": "Üdvözöljük",
    "Open the operator's administration": "Az üzemeltetői adminisztráció megnyitása",
    "Your account is not a member of any active organisation.": "Fiókja egyetlen aktív szervezetnek sem tagja.",
    # --- institutions templates ---
    "Cancel": "Mégse",
    "Delete this entry?": "Törli ezt a bejegyzést?",
    "Delete": "Törlés",
    "Nothing has been added yet.": "Még nincs felvett elem.",
    "Actions": "Műveletek",
    "Edit": "Szerkesztés",
    "Name": "Név",
    "You": "Ön",
    "Deactivate": "Letiltás",
    "Reactivate": "Újraaktiválás",
    # --- set-password email ---
    "Hello %(name)s,": "Kedves %(name)s!",
    "You have been added as a user of %(organization)s.": "Felhasználóként felvették a(z) %(organization)s szervezethez.",
    "The link can be used once and expires in a few days.": "A hivatkozás egyszer használható, és néhány nap múlva lejár.",
    "You have been added as a user of %(organization)s. Open this link to set your password:": "Felhasználóként felvették a(z) %(organization)s szervezethez. Jelszava beállításához nyissa meg ezt a hivatkozást:",
    "You have been invited to %(organization)s": "Meghívást kapott: %(organization)s",
    # --- partner booking ---
    "Show calendars": "Naptárak megjelenítése",
    "There is nothing you may book yet: no active partnership with an authorised service.": "Még nincs mit foglalnia: nincs aktív partnersége engedélyezett szolgáltatással.",
    "Week": "Hét",
    "Previous week": "Előző hét",
    "Week of %(start)s": "%(start)s kezdetű hét",
    "Next week": "Következő hét",
    "Free slot at %(t)s": "Szabad időpont: %(t)s",
    "Busy": "Foglalt",
    "No free time": "Nincs szabad időpont",
    "No calendar matches this choice.": "Ehhez a választáshoz nem tartozik naptár.",
    "All institutions and services you may book are selected; narrow them if you like, then press “Show calendars”.": "Minden foglalható intézmény és szolgáltatás ki van választva; ha szeretné, szűkítse a kört, majd nyomja meg a „Naptárak megjelenítése” gombot.",
    "New booking": "Új foglalás",
    "Patient of the institution": "Az intézmény páciense",
    "Search by name or TAJ number": "Keresés név vagy TAJ-szám alapján",
    "…or a new patient": "…vagy új páciens",
    "Patient": "Páciens",
    "Book": "Foglalás",
    "Booked by": "Foglalta",
    "Move to": "Áthelyezés ide",
    "No free slot in these two weeks": "Ebben a két hétben nincs szabad időpont",
    "Move": "Áthelyezés",
    "Save details": "Adatok mentése",
    "Delete this booking?": "Törli ezt a foglalást?",
    "Delete booking": "Foglalás törlése",
    "No booking matches.": "Nincs a feltételeknek megfelelő foglalás.",
    "Calendar feed (iCalendar)": "Naptár-előfizetés (iCalendar)",
    "Subscribe to this secret address in your calendar application. Anyone who has it can see your bookings' times and places (no patient names); make a new one if it leaks.": "Iratkozzon fel erre a titkos címre a naptáralkalmazásában. Aki ismeri, látja foglalásai időpontját és helyét (páciensneveket nem); ha illetéktelen kézbe kerül, hozzon létre újat.",
    "No feed address yet.": "Még nincs előfizetési cím.",
    "Make a new address": "Új cím létrehozása",
    "Make a feed address": "Előfizetési cím létrehozása",
    "Switch the feed off": "Az előfizetés kikapcsolása",
    "Tick, in a partner's column, the services the partner may book. Every change is saved at once.": "A partner oszlopában jelölje be azokat a szolgáltatásokat, amelyeket a partner foglalhat. Minden változás azonnal mentésre kerül.",
    "Add services first.": "Előbb vegyen fel szolgáltatásokat.",
    "inactive": "inaktív",
    "Enabled": "Engedélyezve",
    "Not active": "Nem aktív",
    "Saved": "Mentve",
    # --- partner emails ---
    "Dear %(name)s,": "Kedves %(name)s!",
    "%(institution)s has added %(company)s as a partner. Nothing can be booked until you approve.": "%(institution)s partnerként felvette a(z) %(company)s céget. Az Ön jóváhagyásáig nem lehet foglalni.",
    "Approve or decline": "Jóváhagyás vagy elutasítás",
    "%(institution)s has added %(company)s as a partner. Nothing can be booked until you approve. Open this link to approve or decline:": "%(institution)s partnerként felvette a(z) %(company)s céget. Az Ön jóváhagyásáig nem lehet foglalni. A jóváhagyáshoz vagy elutasításhoz nyissa meg ezt a hivatkozást:",
    "%(institution)s added you as a partner: please approve": "%(institution)s felvette Önt partnerként: kérjük, hagyja jóvá",
    "%(company)s has accepted the partnership. Enable the services it may book under Traffic Channels.": "%(company)s elfogadta a partnerséget. A Forgalmi csatornák menüpontban engedélyezze a számára foglalható szolgáltatásokat.",
    "%(company)s has declined the partnership.": "%(company)s elutasította a partnerséget.",
    "%(company)s is now an active partner": "%(company)s mostantól aktív partner",
    "%(company)s declined the partnership": "%(company)s elutasította a partnerséget",
    "%(institution)s has ended its partnership with %(company)s. You can no longer book there.": "%(institution)s megszüntette a partnerségét a(z) %(company)s céggel. Ott a továbbiakban nem foglalhat.",
    "These bookings were cancelled with it:": "Ezzel együtt a következő foglalásokat lemondtuk:",
    "Your existing bookings stay as they are.": "Meglévő foglalásai változatlanok maradnak.",
    "%(institution)s has ended the partnership": "%(institution)s megszüntette a partnerséget",
    "%(institution)s has added %(company)s as a partner on MedBook, so that you can book appointments for your patients there.": "%(institution)s a MedBookban partnerként felvette a(z) %(company)s céget, hogy Ön időpontokat foglalhasson ott a pácienseinek.",
    "Registration is required: register as your company's administrator and accept the General Terms and Conditions.": "Regisztráció szükséges: regisztráljon cége adminisztrátoraként, és fogadja el az Általános Szerződési Feltételeket.",
    "Register": "Regisztráció",
    "The link can be used once and expires in %(days)s day.": (
        "A hivatkozás egyszer használható, és %(days)s nap múlva lejár.",
        "A hivatkozás egyszer használható, és %(days)s nap múlva lejár.",
    ),
    "Registration is required. Open this link to register as your company's administrator and accept the General Terms and Conditions:": "Regisztráció szükséges. Nyissa meg ezt a hivatkozást, regisztráljon cége adminisztrátoraként, és fogadja el az Általános Szerződési Feltételeket:",
    "%(institution)s invites you as a partner: registration required": "%(institution)s partnerként meghívta Önt: regisztráció szükséges",
    # --- GTC / partner home ---
    "Version %(version)s, published %(date)s": "%(version)s. verzió, közzétéve: %(date)s",
    "Accepted by %(who)s on %(when)s.": "Elfogadta: %(who)s, időpont: %(when)s.",
    "New terms have been published. Please read and accept them to continue.": "Új feltételeket tettünk közzé. A folytatáshoz kérjük, olvassa el és fogadja el őket.",
    "Accept": "Elfogadás",
    "%(partner)s: partner institutions": "%(partner)s: partnerintézmények",
    "Invitations waiting for your approval": "Jóváhagyására váró meghívások",
    "Review and approve or decline": "Áttekintés, jóváhagyás vagy elutasítás",
    "Your administrator can approve it.": "Az adminisztrátora hagyhatja jóvá.",
    "No institution has added you as a partner yet.": "Még egyetlen intézmény sem vette fel Önt partnerként.",
    "Services you may book": "Foglalható szolgáltatások",
    "None yet": "Még nincs",
    "Registration link": "Regisztrációs hivatkozás",
    "We can email a new link to the address the invitation was sent to.": "Új hivatkozást küldhetünk e-mailben arra a címre, ahová a meghívót küldtük.",
    "Send me a new link": "Új hivatkozást kérek",
    "Already registered? Log in.": "Már regisztrált? Jelentkezzen be.",
    "You have already registered: we have emailed you a link to set a new password.": "Ön már regisztrált: e-mailben elküldtük az új jelszó beállítására szolgáló hivatkozást.",
    "A new registration link is on its way to the address the invitation was sent to.": "Az új regisztrációs hivatkozást elküldtük arra a címre, ahová a meghívót küldtük.",
    "Delete partner": "Partner törlése",
    "Delete partner %(partner)s": "Partner törlése: %(partner)s",
    "The partner loses access at once. Its past bookings, their statistics and commissions stay as they are.": "A partner azonnal elveszíti a hozzáférését. Korábbi foglalásai, azok statisztikái és jutalékai változatlanok maradnak.",
    "The partner has %(counter)s future booking at your institution.": (
        "A partnernek %(counter)s jövőbeli foglalása van az Ön intézményében.",
        "A partnernek %(counter)s jövőbeli foglalása van az Ön intézményében.",
    ),
    "Partner details": "Partner adatai",
    "The partner has registered: it keeps its legal details and contact person up to date itself.": "A partner regisztrált: cégadatait és kapcsolattartóját maga tartja naprakészen.",
    "Contact person": "Kapcsolattartó",
    "Settings": "Beállítások",
    "No partners yet. Partners are legal entities that book for their patients at your institution.": "Még nincs partner. A partnerek olyan jogi személyek, amelyek pácienseik számára foglalnak az Ön intézményében.",
    "Commission": "Jutalék",
    "Modify": "Módosítás",
    "Send the invitation again": "Meghívó újraküldése",
    "Partnership invitation": "Partnerségi meghívás",
    "%(institution)s added you as a partner": "%(institution)s felvette Önt partnerként",
    "Approve": "Jóváhagyás",
    "Decline": "Elutasítás",
    "This invitation has been answered.": "Erre a meghívásra már válaszoltak.",
    "Type at least %(min_length)s characters of the name, or the whole TAJ number.": "Írja be a név legalább %(min_length)s karakterét vagy a teljes TAJ-számot.",
    "No patient matches.": "Nincs találat a páciensek között.",
    "Partner registration": "Partnerregisztráció",
    "%(institution)s has added %(partner)s as a partner. Register as its administrator and accept the General Terms and Conditions to start booking.": "%(institution)s partnerként felvette a(z) %(partner)s céget. A foglalás megkezdéséhez regisztráljon a cég adminisztrátoraként, és fogadja el az Általános Szerződési Feltételeket.",
    "No General Terms and Conditions are published yet, so registration is not possible. Please contact support.": "Még nincs közzétett Általános Szerződési Feltétel, ezért a regisztráció nem lehetséges. Kérjük, forduljon az ügyfélszolgálathoz.",
    "Version %(version)s": "%(version)s. verzió",
    "Back": "Vissza",
    # --- patients templates ---
    "Add patient": "Páciens felvétele",
    "Search by name, TAJ number, email or phone": "Keresés név, TAJ-szám, e-mail-cím vagy telefonszám alapján",
    "Search": "Keresés",
    "Birth date": "Születési dátum",
    "TAJ": "TAJ",
    "No patients found.": "Nem található páciens.",
    "Previous": "Előző",
    "Page %(n)s of %(total)s": "%(n)s. oldal (összesen %(total)s)",
    "Next": "Következő",
    "Type at least %(min_length)s characters.": "Írjon be legalább %(min_length)s karaktert.",
    # --- reports templates ---
    "Reports": "Kimutatások",
    "Bookings": "Foglalások",
    "Traffic statistics": "Forgalmi statisztika",
    "Partner-submitted statistics": "Partnerek által beküldött statisztika",
    "Settlement": "Elszámolás",
    "Bookings report": "Foglalási kimutatás",
    "Commission statements": "Jutalékkimutatások",
    "No-shows": "Meg nem jelenések",
    "Value": "Érték",
    "No bookings in this period.": "Ebben az időszakban nincs foglalás.",
    "Cancel booking": "Foglalás lemondása",
    "Cancel this partner booking?": "Lemondja ezt a partnerfoglalást?",
    "The partner is told by email and the slot becomes free again.": "A partnert e-mailben értesítjük, az időpont pedig ismét szabad lesz.",
    "Yes, cancel the booking": "Igen, a foglalás lemondása",
    "Keep it": "Megtartás",
    "%(counter)s booking": ("%(counter)s foglalás", "%(counter)s foglalás"),
    "No bookings match these filters.": "Nincs a szűrőknek megfelelő foglalás.",
    "Payment": "Fizetés",
    "No partner bookings match these filters.": "Nincs a szűrőknek megfelelő partnerfoglalás.",
    "Choose period": "Időszak kiválasztása",
    "Your bookings at each institution in the period, with the commission due on each (days in the institution's time zone).": "Az időszakban az egyes intézményeknél rögzített foglalásai, mindegyiknél a fizetendő jutalékkal (a napok az intézmény időzónája szerint).",
    "You do not work with any institution yet.": "Még egyetlen intézménnyel sem áll kapcsolatban.",
    "A commission statement per partner for the period: every booking the partner made, with the commission due on each.": "Partnerenkénti jutalékkimutatás az időszakra: a partner minden foglalása, mindegyiknél a fizetendő jutalékkal.",
    "The institution has no partners yet.": "Az intézménynek még nincs partnere.",
    "Show": "Megjelenítés",
    "Bookings starting from %(start)s to %(end)s (days in %(zone)s). Value: the captured price of bookings not cancelled. Commission: from the rule captured on each booking, rounded per booking; none for cancelled bookings": "Foglalások %(start)s és %(end)s között kezdődő időponttal (a napok %(zone)s időzóna szerint). Érték: a nem lemondott foglalások rögzített ára. Jutalék: az egyes foglalásoknál rögzített szabály szerint, foglalásonként kerekítve; lemondott foglalások után nem jár",
    "no-shows earn none": "a meg nem jelenések után nem jár jutalék",
    "Per channel": "Csatornánként",
    "Channel": "Csatorna",
    "Bookings per channel and week": "Foglalások csatornánként és hetenként",
    "Bookings per channel and day": "Foglalások csatornánként és naponként",
    "Bookings per channel over time": "Foglalások csatornánként az idő függvényében",
    "Per partner": "Partnerenként",
    "Commission due per partner": "Fizetendő jutalék partnerenként",
    "All partners": "Minden partner",
    "Cancel this booking?": "Lemondja ezt a foglalást?",
    "Patient from the register": "Páciens a nyilvántartásból",
    "Choose a location, a physician and a service, then press “Show calendars”.": "Válasszon telephelyet, orvost és szolgáltatást, majd nyomja meg a „Naptárak megjelenítése” gombot.",
    # --- scheduling emails ---
    "Previously": "Korábban",
    "Booking reference": "Foglalási azonosító",
    "%(who)s of %(partner)s cancelled an appointment at your institution:": "%(who)s (%(partner)s) lemondott egy időpontot az Ön intézményében:",
    "%(institution)s cancelled an appointment booked by your organisation:": "%(institution)s lemondta az Ön szervezete által foglalt időpontot:",
    "Open MedBook": "MedBook megnyitása",
    "%(partner)s cancelled an appointment": "%(partner)s lemondott egy időpontot",
    "%(institution)s cancelled an appointment of yours": "%(institution)s lemondta az Ön egyik időpontját",
    "%(who)s of %(partner)s booked an appointment at your institution:": "%(who)s (%(partner)s) időpontot foglalt az Ön intézményében:",
    "%(institution)s booked an appointment for your organisation:": "%(institution)s időpontot rögzített az Ön szervezete számára:",
    "%(partner)s booked an appointment": "%(partner)s időpontot foglalt",
    "%(institution)s booked an appointment of yours": "%(institution)s időpontot rögzített az Ön számára",
    "%(who)s of %(partner)s moved an appointment at your institution:": "%(who)s (%(partner)s) áthelyezett egy időpontot az Ön intézményében:",
    "%(institution)s moved an appointment booked by your organisation:": "%(institution)s áthelyezte az Ön szervezete által foglalt időpontot:",
    "%(partner)s moved an appointment": "%(partner)s áthelyezett egy időpontot",
    "%(institution)s moved an appointment of yours": "%(institution)s áthelyezte az Ön egyik időpontját",
}
# fmt: on

# --- PO reading and writing ------------------------------------------------------------------------

_ESCAPES = {"n": "\n", "t": "\t", "r": "\r", '"': '"', "\\": "\\", "a": "\a", "b": "\b", "f": "\f", "v": "\v"}
_KEYWORD = re.compile(r'^(msgctxt|msgid_plural|msgid|msgstr(?:\[(\d+)\])?)\s+"(.*)"\s*$')
_CONTINUATION = re.compile(r'^"(.*)"\s*$')
_PLACEHOLDER = re.compile(r"%(?:\([^)]+\))?[-#0 +]*(?:\*|\d+)?(?:\.(?:\*|\d+))?[diouxXeEfFgGcrsa%]")
WIDTH = 79


def po_unescape(text):
    out, i = [], 0
    while i < len(text):
        if text[i] == "\\" and i + 1 < len(text):
            out.append(_ESCAPES.get(text[i + 1], text[i + 1]))
            i += 2
        else:
            out.append(text[i])
            i += 1
    return "".join(out)


def po_escape(text):
    return (
        text.replace("\\", "\\\\")
        .replace('"', '\\"')
        .replace("\t", "\\t")
        .replace("\r", "\\r")
        .replace("\n", "\\n")
    )


def _wrap(escaped, width):
    """Split an escaped string into chunks of at most `width` characters, breaking after spaces."""
    chunks = []
    while len(escaped) > width:
        cut = escaped.rfind(" ", 0, width)
        if cut <= 0:
            cut = escaped.find(" ", width)
            if cut == -1:
                break
        chunks.append(escaped[: cut + 1])
        escaped = escaped[cut + 1 :]
    chunks.append(escaped)
    return chunks


def po_quote(keyword, value):
    """Render `keyword "value"` the way msgmerge wraps it (79 columns, break after \\n)."""
    single = f'{keyword} "{po_escape(value)}"'
    if len(single) <= WIDTH and "\n" not in value.rstrip("\n"):
        return [single]
    lines = [f'{keyword} ""']
    for part in value.splitlines(keepends=True):
        lines += [f'"{chunk}"' for chunk in _wrap(po_escape(part), WIDTH - 2)]
    return lines


def placeholders(text):
    return sorted(p for p in _PLACEHOLDER.findall(text) if p != "%%")


class Entry:
    def __init__(self):
        self.comments = []  # "#", "#.", "#:" and "#~" lines, kept as they are
        self.flags = []  # the "#," line
        self.previous = []  # "#|" lines written by msgmerge --previous
        self.msgctxt = None
        self.msgid = ""
        self.msgid_plural = None
        self.msgstr = ""
        self.msgstr_plural = {}

    @property
    def key(self):
        return self.msgid if self.msgctxt is None else f"{self.msgctxt}\x04{self.msgid}"

    @property
    def is_header(self):
        return self.msgid == "" and self.msgctxt is None

    @property
    def is_obsolete(self):
        return any(c.startswith("#~") for c in self.comments)

    def is_translated(self):
        if self.msgid_plural is None:
            return bool(self.msgstr)
        return len(self.msgstr_plural) == NPLURALS and all(self.msgstr_plural.values())

    def translation(self):
        if self.msgid_plural is None:
            return self.msgstr
        return tuple(self.msgstr_plural.get(i, "") for i in range(NPLURALS))

    def set_translation(self, value):
        if self.msgid_plural is None:
            if not isinstance(value, str):
                raise ValueError(f"{self.msgid!r} is not a plural msgid: give one string")
            self.msgstr = value
        else:
            if isinstance(value, str) or len(value) != NPLURALS:
                raise ValueError(f"{self.msgid!r} is a plural msgid: give a tuple of {NPLURALS} strings")
            self.msgstr_plural = dict(enumerate(value))

    def clear_translation(self):
        self.msgstr = ""
        self.msgstr_plural = dict.fromkeys(range(NPLURALS), "") if self.msgid_plural is not None else {}

    def render(self):
        lines = list(self.comments)
        if self.flags:
            lines.append("#, " + ", ".join(self.flags))
        lines += self.previous
        if self.msgctxt is not None:
            lines += po_quote("msgctxt", self.msgctxt)
        lines += po_quote("msgid", self.msgid)
        if self.msgid_plural is None:
            lines += po_quote("msgstr", self.msgstr)
        else:
            lines += po_quote("msgid_plural", self.msgid_plural)
            for index in sorted(self.msgstr_plural):
                lines += po_quote(f"msgstr[{index}]", self.msgstr_plural[index])
        return "\n".join(lines)


def parse_po(text):
    entries = []
    for block in re.split(r"\n[ \t]*\n", text.strip("\n")):
        entry, current = Entry(), None
        for line in block.splitlines():
            if line.startswith("#,"):
                entry.flags += [flag.strip() for flag in line[2:].split(",") if flag.strip()]
            elif line.startswith("#|"):
                entry.previous.append(line)
            elif line.startswith("#"):
                entry.comments.append(line)
            elif match := _KEYWORD.match(line):
                keyword, index, value = match.group(1), match.group(2), po_unescape(match.group(3))
                if index is not None:
                    current = ("plural", int(index))
                    entry.msgstr_plural[int(index)] = value
                else:
                    current = (keyword, None)
                    setattr(entry, keyword, value)
            elif (match := _CONTINUATION.match(line)) and current:
                value = po_unescape(match.group(1))
                if current[0] == "plural":
                    entry.msgstr_plural[current[1]] += value
                else:
                    setattr(entry, current[0], getattr(entry, current[0]) + value)
            else:
                raise ValueError(f"Cannot read this PO line: {line!r}")
        entries.append(entry)
    return entries


def render_po(entries):
    return "\n\n".join(entry.render() for entry in entries) + "\n"


# --- filling ---------------------------------------------------------------------------------------


def fix_header(header, revision_date=None):
    fields = {
        "Project-Id-Version": "medbook",
        "Last-Translator": LAST_TRANSLATOR,
        "Language-Team": "Hungarian",
        "Language": "hu",
        "MIME-Version": "1.0",
        "Content-Type": "text/plain; charset=UTF-8",
        "Content-Transfer-Encoding": "8bit",
        "Plural-Forms": PLURAL_FORMS,
    }
    if revision_date or "YEAR-MO-DA" in header.msgstr:
        fields["PO-Revision-Date"] = revision_date or datetime.now(UTC).strftime("%Y-%m-%d %H:%M+0000")
    lines, seen = [], set()
    for line in header.msgstr.splitlines():
        name = line.split(":", 1)[0]
        if name in fields:
            line = f"{name}: {fields[name]}"
            seen.add(name)
        lines.append(line)
    lines += [f"{name}: {value}" for name, value in fields.items() if name not in seen]
    header.msgstr = "\n".join(lines) + "\n"
    header.flags = [flag for flag in header.flags if flag != "fuzzy"]
    header.comments = [
        "# Hungarian translation of MedBook.",
        "# Generated by scripts/translate_hu.py: edit the table there, not this file.",
        "#",
    ]


def check_placeholders(key, msgid, value):
    wanted = placeholders(msgid)
    for text in [value] if isinstance(value, str) else value:
        if placeholders(text) != wanted:
            raise ValueError(f"Placeholders differ for {key!r}: {wanted} vs {placeholders(text)} in {text!r}")


def fill(entries, table):
    """Apply `table` to `entries`; return (untranslated msgids, hand translations missing from the table)."""
    untranslated, hand_made = [], []
    for entry in entries:
        if entry.is_header:
            fix_header(entry)
            continue
        if entry.is_obsolete:
            continue
        was_fuzzy = "fuzzy" in entry.flags
        entry.flags = [flag for flag in entry.flags if flag != "fuzzy"]
        entry.previous = []
        if entry.key in NOT_FORMAT_STRINGS:
            entry.flags = [flag for flag in entry.flags if flag != "python-format"]
            if "no-python-format" not in entry.flags:
                entry.flags.append("no-python-format")
        if entry.key in table:
            value = table[entry.key]
            if "python-format" in entry.flags:
                check_placeholders(entry.key, entry.msgid, value)
                if entry.msgid_plural is not None:
                    check_placeholders(entry.key, entry.msgid_plural, value[1:])
            entry.set_translation(value)
        elif entry.is_translated() and not was_fuzzy:
            hand_made.append((entry.key, entry.translation()))
        else:
            entry.clear_translation()
            untranslated.append(entry.key)
    return untranslated, hand_made


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--po", type=Path, default=PO_PATH)
    parser.add_argument(
        "--check", action="store_true", help="write nothing; exit 1 if anything is untranslated"
    )
    args = parser.parse_args(argv)

    original = args.po.read_text(encoding="utf-8")
    entries = parse_po(original)
    untranslated, hand_made = fill(entries, TRANSLATIONS)
    live = sum(1 for e in entries if not e.is_header and not e.is_obsolete)
    print(f"{args.po}: {live - len(untranslated)} of {live} msgids translated")
    for key, value in hand_made:
        print(f"  translated in the .po but not in TRANSLATIONS (copy it over): {key!r}: {value!r}")
    unused = len(set(TRANSLATIONS) - {e.key for e in entries})
    if unused:
        print(f"  {unused} table entries are no longer used by the code (harmless)")
    if untranslated:
        print(f"  {len(untranslated)} msgids have NO translation yet: add them to TRANSLATIONS in {__file__}")
        for key in untranslated:
            print(f"    {key!r}")
    if not args.check:
        rendered = render_po(entries)
        if rendered != original:  # stamp the revision date only when something really changed
            fix_header(
                next(e for e in entries if e.is_header), datetime.now(UTC).strftime("%Y-%m-%d %H:%M+0000")
            )
            args.po.write_text(render_po(entries), encoding="utf-8")
    return 1 if (args.check and untranslated) else 0


if __name__ == "__main__":
    sys.exit(main())
