"""Issue 19: a webhook URL no tenant can use to stop the worker, and an address guard that holds.

The review saved a URL with a space as an organisation admin; the worker died on it (http.client.InvalidURL)
and every tenant's e-mail and webhooks stopped. It then made the guard call internal addresses through a name
resolving differently for the check and the connection, through IPv6 forms that carry an IPv4 address, and
read the internal network's answers in the delivery log.
"""

import ipaddress
import socket
import ssl
from urllib.parse import urlsplit

import pytest
from django.db import transaction

from conftest import actor_of
from medbook.core.tests.ports import free_port
from medbook.notifications.management.commands import run_worker
from medbook.notifications.services import outbox_write
from medbook.webhooks import addresses, worker
from medbook.webhooks.addresses import WebhookTarget, address_is_public, embedded_ipv4
from medbook.webhooks.models import WebhookDelivery, WebhookEndpoint
from medbook.webhooks.services import webhook_endpoint_create, webhook_enqueue, webhook_secret_new
from medbook.webhooks.tests.receiver import Receiver

pytestmark = pytest.mark.django_db
Status = WebhookDelivery.Status


def hostile_urls(port: int) -> list[str]:
    """Every malformed URL the review tried (or the same class), aimed at a receiver on `port`."""
    base = f"http://127.0.0.1:{port}"
    return [
        f"{base}/a b",  # the review's space
        f"{base}/\thook",
        f"{base}/x\ny",
        f"{base}/x\r\nX-Injected: 1",
        f"{base}/x\x7f",
        f"{base}/\u2028",
        f"{base}/\u00a0",
        f"{base}/h\u00fcck",
        f"{base}/%zz",
        f"http://exa mple.com:{port}/",
        f"http://ex\u00e4mple..com:{port}/",
        f"http://xn--a.com:{port}/",
        f"http://{'a' * 64}.test:{port}/",
        f"http://{'a.' * 200}test/",
        "http://127.0.0.1:99999/",
        "http://127.0.0.1:0/",
        "http://127.0.0.1:-1/",
        "http://127.0.0.1:abc/",
        "http://127.0.0.1:+80/",
        "http://127.0.0.1:/",
        f"http://user:pass@127.0.0.1:{port}/",
        f"http://example.com\\@127.0.0.1:{port}/",
        f"http://[::1:{port}/",
        f"http://[fe80::1%25lo]:{port}/",
        f"http://[not-ipv6]:{port}/",
        f"http://2130706433:{port}/",
        f"http://0x7f.0.0.1:{port}/",
        f"http://127.1:{port}/",
        f"http://0177.0.0.1:{port}/",
        "ftp://127.0.0.1/x",
        "file:///etc/passwd",
        "javascript:alert(1)",
        "gopher://127.0.0.1:70/_x",
        "http:///x",
        "",
    ]


# Addresses inside this network, in every spelling the review and the IPv6 transition mechanisms allow.
PRIVATE_ADDRESSES = [
    "127.0.0.1",
    "10.0.0.8",
    "172.16.0.1",
    "192.168.1.1",
    "100.64.0.1",  # CGNAT
    "169.254.169.254",  # cloud metadata
    "0.0.0.0",
    "224.0.0.1",
    "255.255.255.255",
    "192.0.2.1",
    "198.18.0.1",
    "::1",
    "::",
    "::ffff:127.0.0.1",  # IPv4-mapped
    "::ffff:7f00:1",
    "::ffff:10.0.0.8",
    "::ffff:0:7f00:1",  # IPv4-translated
    "::127.0.0.1",  # IPv4-compatible
    "::a9fe:a9fe",
    "2002:7f00:1::",  # 6to4 of 127.0.0.1
    "2002:a9fe:a9fe::1",  # 6to4 of 169.254.169.254
    "64:ff9b::7f00:1",  # NAT64 of 127.0.0.1
    "64:ff9b::a9fe:a9fe",
    "64:ff9b:1::a00:1",  # local-use NAT64
    "2001:0:4136:e378:8000:63bf:3fff:fdd2",  # Teredo
    "2001:0:a00:8::f5ff:fff7",  # Teredo with a private server
    "fe80::1",
    "fec0::1",
    "fc00::1",
    "fd12:3456::1",
    "ff02::1",
    "2001:db8::1",
]
PUBLIC_ADDRESSES = [
    "93.184.215.14",
    "1.1.1.1",
    "2606:4700:4700::1111",
    "::ffff:93.184.215.14",
    "2002:5db8:d70e::1",
]


def _resolving_to(monkeypatch, *answers: str) -> list[str]:
    """Make host names resolve to `answers` in turn (the last one from then on); return the names asked."""
    asked: list[str] = []

    def getaddrinfo(host, port):
        address = answers[min(len(asked), len(answers) - 1)]
        asked.append(host)
        family = socket.AF_INET6 if ":" in address else socket.AF_INET
        return [(family, socket.SOCK_STREAM, 6, "", (address, port))]

    monkeypatch.setattr(addresses, "_getaddrinfo", getaddrinfo)
    return asked


def _legacy_endpoint(organization, url: str) -> WebhookEndpoint:
    """A row saved before the validator, or edited in the database: the form is not asked."""
    return WebhookEndpoint.objects.create(
        organization=organization, url=url, events=["booking.created"], secret=webhook_secret_new()
    )


def _emails_for_every_tenant(count: int = 6) -> list[str]:
    recipients = [f"patient{n}@tenant{n % 3}.test" for n in range(count)]
    for to in recipients:
        with transaction.atomic():
            outbox_write(to=to, subject="Your booking", text_body="t", html_body="<p>h</p>")
    return recipients


@pytest.fixture
def run_worker_until_idle(monkeypatch):
    """The worker's own loop body (run_worker), round after round, until nothing is due."""
    # Between rounds the worker drops a connection left in a transaction; the test's is one on purpose.
    monkeypatch.setattr(run_worker, "close_old_connections", lambda: None)

    def run() -> None:
        command = run_worker.Command()
        for _round in range(50):
            if not command.round(batch=20):
                return
        raise AssertionError("the worker never became idle")

    return run


@pytest.fixture
def open_for_local(settings):
    settings.WEBHOOK_ALLOW_HTTP = True
    settings.WEBHOOK_ALLOW_PRIVATE_ADDRESSES = True


def test_finding_a_hostile_webhook_url_never_stops_the_emails_or_the_other_webhooks(
    run_worker_until_idle, cast, partners, smtp_server, open_for_local
):
    with Receiver() as receiver:
        urls = hostile_urls(receiver.server.server_address[1])
        for n, url in enumerate(urls):
            owner = (cast.institution_b, partners.partner_q, partners.partner_p)[n % 3]
            _legacy_endpoint(owner, url)
        webhook_endpoint_create(actor=actor_of(cast.alice), url=receiver.url, events=["booking.created"])
        organizations = [
            cast.institution_a.pk,
            cast.institution_b.pk,
            partners.partner_p.pk,
            partners.partner_q.pk,
        ]
        with transaction.atomic():
            webhook_enqueue(
                organization_ids=organizations, event="booking.created", data=lambda: {"booking": 1}
            )
        recipients = _emails_for_every_tenant()
        run_worker_until_idle()
        assert sorted(m["To"] for m in smtp_server.messages) == sorted(recipients)
        assert len(receiver.received) == 1  # institution A's endpoint, and nothing a hostile URL aimed at it
    hostile = WebhookDelivery.objects.exclude(endpoint__url=receiver.url)
    assert hostile.count() == len(urls)
    assert {(d.status, d.last_error) for d in hostile} == {(Status.PENDING, "invalid URL")}
    assert WebhookDelivery.objects.get(endpoint__url=receiver.url).status == Status.DELIVERED


def test_finding_the_worker_survives_a_url_the_validator_would_let_through(
    run_worker_until_idle, cast, smtp_server, open_for_local, monkeypatch
):
    """Defence in depth: even with a validator that misses them, the library's refusals stay on their row."""

    def naive_parse(url: str) -> WebhookTarget:
        parts = urlsplit(url)
        return WebhookTarget(url, parts.scheme, parts.hostname or "", parts.port or 80, parts.path or "/")

    monkeypatch.setattr(worker, "webhook_url_parse", naive_parse)
    with Receiver() as receiver:
        base = f"http://127.0.0.1:{receiver.server.server_address[1]}"
        for url in (
            f"{base}/a b",
            f"{base}/x\r\nX-Injected: 1",
            f"{base}/h\u00fcck",
            "http://127.0.0.1:99999/",
        ):
            _legacy_endpoint(cast.institution_b, url)
        _legacy_endpoint(cast.institution_a, receiver.url)
        with transaction.atomic():
            webhook_enqueue(
                organization_ids=[cast.institution_a.pk, cast.institution_b.pk],
                event="booking.created",
                data=lambda: {},
            )
        recipients = _emails_for_every_tenant(3)
        run_worker_until_idle()
        assert sorted(m["To"] for m in smtp_server.messages) == sorted(recipients)
        assert len(receiver.received) == 1
    assert not WebhookDelivery.objects.filter(status=Status.SENDING).exists()
    errors = dict(WebhookDelivery.objects.values_list("endpoint__url", "last_error"))
    assert errors.pop(receiver.url) == ""
    assert errors.pop("http://127.0.0.1:99999/") == "internal error"  # the lax parser's own ValueError
    assert set(errors.values()) == {"invalid URL"}  # http.client's InvalidURL, the encoder's UnicodeError


def test_finding_run_worker_goes_on_after_a_task_fails_and_restarts_its_loop(
    run_worker_until_idle, cast, smtp_server, settings, monkeypatch, caplog
):
    def broken_task() -> int:
        raise RuntimeError("a bug one row set off")

    monkeypatch.setattr(
        "medbook.notifications.management.commands.run_worker.import_string", lambda _path: broken_task
    )
    recipients = _emails_for_every_tenant(3)
    run_worker_until_idle()
    assert sorted(m["To"] for m in smtp_server.messages) == sorted(recipients)
    assert "failed, retrying after the poll interval" in caplog.text

    rounds = []

    def round_then_stop(batch: int) -> int:
        rounds.append(batch)
        if len(rounds) == 1:
            raise RuntimeError("unexpected")
        raise KeyboardInterrupt

    command = run_worker.Command()
    monkeypatch.setattr(command, "round", round_then_stop)
    command.handle(once=False, batch=5, sleep=0)
    assert len(rounds) == 2  # the loop started again after the error
    assert "unexpected error, the loop starts again" in caplog.text


@pytest.mark.parametrize("url_index", range(len(hostile_urls(8443))))
@pytest.mark.parametrize("admin", ["alice", "paula"])
def test_finding_the_webhooks_page_refuses_each_hostile_url_with_a_message(
    client, cast, partners, monkeypatch, url_index, admin
):
    _resolving_to(monkeypatch, "10.0.0.1")
    url = hostile_urls(8443)[url_index].replace("http://", "https://", 1)
    client.force_login(getattr(cast, admin, None) or getattr(partners, admin))
    page = client.post("/administration/webhooks/", {"url": url, "events": ["booking.created"]})
    assert page.status_code == 422, url
    assert page.context["form"].errors["url"], url
    assert not WebhookEndpoint.objects.exists()


@pytest.mark.parametrize(
    "url",
    [
        "https://example.com/x\x00",
        "https://example.com/" + "a" * 600,
        "http://example.com/hook",  # plain HTTP outside a development machine
        *[f"https://[{a}]/" if ":" in a else f"https://{a}/" for a in PRIVATE_ADDRESSES],
        "https://rebind.example/",  # a name resolving inside the network
    ],
)
def test_finding_the_webhooks_page_refuses_private_addresses_and_oversized_urls(
    client, cast, monkeypatch, url
):
    _resolving_to(monkeypatch, "10.0.0.1")
    client.force_login(cast.alice)
    page = client.post("/administration/webhooks/", {"url": url, "events": ["booking.created"]})
    assert page.status_code == 422
    assert page.context["form"].errors["url"]
    assert not WebhookEndpoint.objects.exists()


def test_a_valid_international_url_is_stored_in_its_ascii_form(cast, monkeypatch):
    _resolving_to(monkeypatch, "93.184.215.14")
    endpoint, _secret = webhook_endpoint_create(
        actor=actor_of(cast.alice),
        url="  HTTPS://Ex\u00e4mple.COM:8443/hook?x=1  ",
        events=["booking.created"],
    )
    assert endpoint.url == "https://xn--exmple-cua.com:8443/hook?x=1"


@pytest.mark.parametrize("address", PRIVATE_ADDRESSES)
def test_finding_the_guard_refuses_every_internal_address_form(address):
    assert not address_is_public(ipaddress.ip_address(address))


@pytest.mark.parametrize("address", PUBLIC_ADDRESSES)
def test_the_guard_takes_public_addresses(address):
    assert address_is_public(ipaddress.ip_address(address))


def test_the_guard_finds_the_ipv4_inside_each_ipv6_form():
    loopback = ipaddress.IPv4Address("127.0.0.1")
    for form in ("::ffff:127.0.0.1", "::127.0.0.1", "::ffff:0:7f00:1", "2002:7f00:1::", "64:ff9b::7f00:1"):
        assert loopback in embedded_ipv4(ipaddress.IPv6Address(form)), form
    teredo = embedded_ipv4(ipaddress.IPv6Address("2001:0:4136:e378:8000:63bf:3fff:fdd2"))
    assert ipaddress.IPv4Address("65.54.227.120") in teredo and ipaddress.IPv4Address("192.0.2.45") in teredo


@pytest.mark.parametrize("address", ["10.0.0.8", "::ffff:127.0.0.1", "64:ff9b::a9fe:a9fe", "2002:7f00:1::"])
def test_finding_the_worker_refuses_a_legacy_row_inside_the_network_without_connecting(
    cast, settings, monkeypatch, address
):
    settings.WEBHOOK_ALLOW_HTTP = True
    connected = []
    monkeypatch.setattr(worker, "connect_first", lambda *args: connected.append(args))
    _resolving_to(monkeypatch, address)
    host = f"[{address}]" if ":" in address else address
    for url in (f"http://{host}/", "http://rebind.example/"):
        _legacy_endpoint(cast.institution_b, url)
    webhook_enqueue(organization_ids=[cast.institution_b.pk], event="booking.created", data=lambda: {})
    worker.webhooks_drain()
    assert connected == []
    assert set(WebhookDelivery.objects.values_list("last_error", flat=True)) == {"address not allowed"}


def test_finding_a_name_rebound_between_check_and_connect_is_connected_to_the_checked_address(
    cast, settings, monkeypatch
):
    settings.WEBHOOK_ALLOW_HTTP = True
    with Receiver() as receiver:
        port = receiver.server.server_address[1]
        asked = _resolving_to(monkeypatch, "93.184.215.14", "93.184.215.14", "127.0.0.1")
        webhook_endpoint_create(
            actor=actor_of(cast.alice), url=f"http://hook.example:{port}/in", events=["booking.created"]
        )
        opened = []
        real_create_connection = socket.create_connection

        def create_connection(address, *args, **kwargs):
            opened.append(address)
            # Play the public host: its answer comes from the local receiver.
            return real_create_connection(("127.0.0.1", port), *args, **kwargs)

        monkeypatch.setattr(socket, "create_connection", create_connection)
        webhook_enqueue(organization_ids=[cast.institution_a.pk], event="booking.created", data=lambda: {})
        assert worker.webhooks_drain() == 1
        assert opened == [("93.184.215.14", port)]  # the checked address; no second resolution
        assert asked == ["hook.example", "hook.example"]  # once on save, once for the delivery
        assert receiver.received[0]["headers"]["host"] == f"hook.example:{port}"


def test_finding_a_name_rebound_after_it_was_saved_is_refused_at_delivery(cast, settings, monkeypatch):
    settings.WEBHOOK_ALLOW_HTTP = True
    _resolving_to(monkeypatch, "93.184.215.14", "127.0.0.1")
    webhook_endpoint_create(
        actor=actor_of(cast.alice), url="http://hook.example/in", events=["booking.created"]
    )
    connected = []
    monkeypatch.setattr(worker, "connect_first", lambda *args: connected.append(args))
    webhook_enqueue(organization_ids=[cast.institution_a.pk], event="booking.created", data=lambda: {})
    worker.webhooks_drain()
    assert connected == []
    assert WebhookDelivery.objects.get().last_error == "address not allowed"


def test_https_delivery_sends_the_endpoints_name_for_sni_and_the_certificate(
    cast, open_for_local, monkeypatch
):
    server_names = []

    class RecordingContext(ssl.SSLContext):
        def wrap_socket(self, sock, *args, server_hostname=None, **kwargs):
            server_names.append(server_hostname)
            raise ssl.SSLError("handshake stopped by the test")

    def default_context() -> ssl.SSLContext:
        context = RecordingContext(ssl.PROTOCOL_TLS_CLIENT)
        context.load_default_certs()
        return context

    monkeypatch.setattr(ssl, "create_default_context", default_context)
    with Receiver() as receiver:  # the TCP connection is made; the handshake stops once the name is given
        port = receiver.server.server_address[1]
        _resolving_to(monkeypatch, "127.0.0.1")
        _legacy_endpoint(cast.institution_a, f"https://hook.example:{port}/in")
        webhook_enqueue(organization_ids=[cast.institution_a.pk], event="booking.created", data=lambda: {})
        worker.webhooks_drain()
    assert server_names == ["hook.example"]
    assert WebhookDelivery.objects.get().last_error == "TLS error"


def test_finding_the_delivery_log_does_not_describe_the_network(client, cast, open_for_local):
    closed_port = free_port()  # nothing listens there, and no other test's server will
    _legacy_endpoint(cast.institution_a, f"http://127.0.0.1:{closed_port}/")
    webhook_enqueue(organization_ids=[cast.institution_a.pk], event="booking.created", data=lambda: {})
    worker.webhooks_drain()
    assert WebhookDelivery.objects.get().last_error == "connection failed"
    client.force_login(cast.alice)
    page = client.get("/administration/webhooks/").content.decode()
    assert "connection failed" in page
    assert "Errno" not in page and "refused" not in page.lower()
    assert worker.failure_reason(TimeoutError()) == "timed out"
    assert worker.failure_reason(TimeoutError()) == "timed out"
    assert worker.failure_reason(ssl.SSLCertVerificationError()) == "TLS error"
    assert worker.failure_reason(ConnectionResetError(104, "Connection reset by peer")) == "connection failed"
