"""A browser context logged in as a user without the login page: the session cookie of Django's test client."""

from django.conf import settings
from django.test import Client


def session_for(context, live_server, user) -> None:
    """Give the Playwright browser context the session of `user` on the live server."""
    client = Client()
    client.force_login(user)
    cookie = client.cookies[settings.SESSION_COOKIE_NAME].value
    context.add_cookies([{"name": settings.SESSION_COOKIE_NAME, "value": cookie, "url": live_server.url}])
