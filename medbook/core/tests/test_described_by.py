"""Issue 23, defect 9: every hint and error a field points at (aria-describedby, aria-labelledby) exists on the
page, so that a screen reader reads it: on every page each kind of actor opens, and on each of those pages'
forms sent back empty (their error state)."""

from html.parser import HTMLParser

import pytest
from django.test import Client

from medbook.core.tests.cast import everyone_make
from medbook.core.tests.test_permission_matrix import ACTORS, GET, MATRIX, TOKEN_NAMESPACES, _request_of

pytestmark = pytest.mark.django_db
# One actor of each kind; together they open every page of the project.
KINDS = ("anon", "operator", "a_admin", "a_staff", "p_admin", "p_book", "p_nobook", "e_user")
REFERENCES = ("aria-describedby", "aria-labelledby")


class _References(HTMLParser):
    """The ids a page has, the ids its elements refer to, and whether it has a form posting to itself."""

    def __init__(self):
        super().__init__()
        self.ids: set[str] = set()
        self.refs: list[tuple[str, str, str]] = []  # (element, attribute, id)
        self.posts_to_itself = False

    def handle_starttag(self, tag, attrs):
        attributes = dict(attrs)
        if attributes.get("id"):
            self.ids.add(attributes["id"])
        for name in REFERENCES:
            for ref in (attributes.get(name) or "").split():
                self.refs.append((f"<{tag} name={attributes.get('name')!r}>", name, ref))
        if (
            tag == "form"
            and (attributes.get("method") or "").lower() == "post"
            and not attributes.get("action")
        ):
            self.posts_to_itself = True


def _dangling(html: str) -> tuple[list[str], bool]:
    page = _References()
    page.feed(html)
    return [f"{element} {name}={ref!r}" for element, name, ref in page.refs if ref not in page.ids], (
        page.posts_to_itself
    )


def test_defect9_every_aria_reference_of_every_page_and_form_error_exists(cast, partners):
    everyone = everyone_make(cast, partners)
    problems, pages, forms = [], 0, 0
    for actor in KINDS:
        client = Client()
        if actor != "anon":
            client.force_login(everyone.user(actor))
        for name, (method, _obj, answers) in MATRIX.items():
            answer = dict(zip(ACTORS, answers, strict=True))[actor]
            if (
                method != GET
                or answer != 200
                or name.startswith(TOKEN_NAMESPACES)
                or name.endswith("-download")
            ):
                continue
            _method, url, data = _request_of(name, everyone)
            response = client.get(url, data)
            if "text/html" not in response.get("Content-Type", ""):
                continue
            pages += 1
            dangling, posts_to_itself = _dangling(response.content.decode())
            problems += [f"{name} as {actor}: {problem}" for problem in dangling]
            if posts_to_itself and name not in ("accounts:logout",):
                sent = client.post(response.request["PATH_INFO"], {})
                if sent.status_code >= 400 and "text/html" in sent.get("Content-Type", ""):
                    forms += 1
                    dangling, _ = _dangling(sent.content.decode())
                    problems += [f"{name} as {actor}, sent empty: {problem}" for problem in dangling]
    assert pages > 50 and forms > 10, (pages, forms)
    assert not problems, "\n".join(problems)
