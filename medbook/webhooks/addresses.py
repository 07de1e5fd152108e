"""Where a webhook may be sent: one parser of endpoint URLs and one guard of the addresses they resolve to.

The page refuses a URL with the parser's message when it is saved; the worker parses every URL again before
each delivery (a row saved before these rules, or edited in the database, is refused there and never stops
the worker). The guard resolves a host name once and checks every address it got, IPv4 forms hidden inside
IPv6 ones included; the worker then connects to a checked address and to nothing else, so a name cannot
resolve to a public address for the check and to a private one for the connection.
"""

import ipaddress
import re
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

MAX_URL_LENGTH = 500
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

# The short reasons the delivery log keeps (translated where it is shown: WebhookDelivery.error_display).
INVALID_URL = "invalid URL"
HOST_NOT_FOUND = "host not found"
ADDRESS_REFUSED = "address not allowed"

# RFC 3986: what may stand in a path, query or fragment, a "%" only before two hex digits. Anything else
# (spaces, control characters, quotes, non-ASCII) is refused rather than guessed at.
_URL_TEXT = re.compile(r"(?:[A-Za-z0-9\-._~!$&'()*+,;=:@/?]|%[0-9A-Fa-f]{2})*\Z")
_PORT = re.compile(r"[0-9]{1,5}\Z")
_LABEL = re.compile(r"(?!-)[a-z0-9-]{1,63}(?<!-)\Z")
_DOTTED_QUAD = re.compile(
    r"(?:(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\Z"
)

# Besides what Python's `is_global` leaves out (it differs between Python versions): shared address space
# (CGNAT), benchmarking, documentation, 6to4 relay anycast, IPv4-compatible and IPv4-translated IPv6, the
# local-use NAT64 prefix, Teredo (a tunnel to any IPv4 address), site-local, unique-local and multicast.
_REFUSED_NETWORKS = tuple(
    ipaddress.ip_network(network)
    for network in (
        "0.0.0.0/8",
        "100.64.0.0/10",
        "192.0.0.0/24",
        "192.0.2.0/24",
        "192.88.99.0/24",
        "198.18.0.0/15",
        "198.51.100.0/24",
        "203.0.113.0/24",
        "224.0.0.0/3",
        "::/96",
        "::ffff:0:0:0/96",
        "64:ff9b:1::/48",
        "100::/64",
        "2001::/23",
        "2001:db8::/32",
        "3fff::/20",
        "5f00::/16",
        "fc00::/7",
        "fe80::/10",
        "fec0::/10",
        "ff00::/8",
    )
)
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_NAT64_LOCAL = ipaddress.ip_network("64:ff9b:1::/48")
_IPV4_COMPATIBLE = ipaddress.ip_network("::/96")
_IPV4_TRANSLATED = ipaddress.ip_network("::ffff:0:0:0/96")


class WebhookUrlInvalid(ValueError):
    """The URL cannot be a webhook endpoint: `message` tells its owner why, `reason` is the log's word."""

    def __init__(self, message: str | Promise, reason: str = INVALID_URL) -> None:
        super().__init__(reason)
        self.message = message
        self.reason = reason


@dataclass(frozen=True)
class WebhookTarget:
    """A parsed endpoint URL: the ASCII host (an IP literal without brackets), port, request path."""

    url: str
    scheme: str
    host: str
    port: int
    path: str


def webhook_url_parse(url: str) -> WebhookTarget:
    """Parse an endpoint URL as the worker will send to it; refuse what it could not send, or must not."""
    if not isinstance(url, str) or not url:
        raise WebhookUrlInvalid(_("Enter the URL of your endpoint, such as https://example.com/medbook."))
    if len(url) > MAX_URL_LENGTH:
        raise WebhookUrlInvalid(_("The URL can be at most 500 characters."))
    if any(character.isspace() or not character.isprintable() for character in url):
        raise WebhookUrlInvalid(_("The URL may not contain spaces, tabs, line breaks or control characters."))
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise WebhookUrlInvalid(
            _("The URL is not valid: check its host and port (a number from 1 to 65535).")
        ) from None
    scheme = parts.scheme.lower()
    if scheme != "https" and not (scheme == "http" and settings.WEBHOOK_ALLOW_HTTP):
        raise WebhookUrlInvalid(_("The URL must start with https://."))
    if "@" in parts.netloc:
        raise WebhookUrlInvalid(_("The URL may not contain a user name or password."))
    port_text = parts.netloc.rpartition("]")[2].rpartition(":")
    if port_text[1] and (port == 0 or not _PORT.match(port_text[2])):
        raise WebhookUrlInvalid(_("The URL's port must be a number from 1 to 65535."))
    host = _host_parsed(parts.netloc, parts.hostname or "")
    path = parts.path or "/"
    query = f"?{parts.query}" if parts.query else ""
    if not path.startswith("/") or not _URL_TEXT.match(path + query + parts.fragment):
        raise WebhookUrlInvalid(
            _(
                "The URL's path may contain only ASCII letters, digits and URL punctuation; percent-encode the rest."
            )
        )
    netloc = f"[{host}]" if ":" in host else host
    if port is not None:
        netloc += f":{port}"
    normalised = f"{scheme}://{netloc}{path}{query}"
    if len(normalised) > MAX_URL_LENGTH:
        raise WebhookUrlInvalid(_("The URL can be at most 500 characters."))
    return WebhookTarget(
        url=normalised,
        scheme=scheme,
        host=host,
        port=port or (443 if scheme == "https" else 80),
        path=path + query,
    )


def _host_parsed(netloc: str, hostname: str) -> str:
    """The host in the form the connection uses: an IP literal, or a name in ASCII (IDNA)."""
    invalid = WebhookUrlInvalid(_("The URL's host name is not valid."))
    if not hostname:
        raise WebhookUrlInvalid(_("Enter the URL of your endpoint, such as https://example.com/medbook."))
    if "%" in hostname or "\\" in hostname:  # an IPv6 zone, or an escape resolvers read differently
        raise invalid
    if netloc.startswith("["):
        try:
            return str(ipaddress.IPv6Address(hostname))  # a zone ("%eth0") or a bad literal is refused
        except ValueError:
            raise invalid from None
    try:
        ascii_name = hostname.encode("idna").decode("ascii").lower().rstrip(".")
    except UnicodeError:
        raise invalid from None
    labels = ascii_name.split(".")
    try:
        for label in labels:
            if label.startswith("xn--"):
                label.encode("ascii").decode("idna")  # a label in Punycode must decode
    except UnicodeError:
        raise invalid from None
    if len(ascii_name) > 253 or not all(_LABEL.match(label) for label in labels):
        raise invalid
    # As browsers parse hosts: a name ending in a number is an IPv4 address, and only its dotted-quad
    # decimal form is taken (never 2130706433, 0x7f.1 or 0177.0.0.1, which resolvers read differently).
    if labels[-1].isdigit() or labels[-1].startswith("0x"):
        if not _DOTTED_QUAD.match(ascii_name):
            raise invalid
    return ascii_name


def embedded_ipv4(address: ipaddress.IPv6Address) -> list[ipaddress.IPv4Address]:
    """The IPv4 addresses an IPv6 address carries: mapped, compatible, translated, 6to4, NAT64, Teredo."""
    found = []
    value = int(address)
    if address.ipv4_mapped is not None:
        found.append(address.ipv4_mapped)
    if address in _IPV4_COMPATIBLE or address in _IPV4_TRANSLATED or address in _NAT64:
        found.append(ipaddress.IPv4Address(value & 0xFFFFFFFF))
    if address in _NAT64_LOCAL:  # RFC 6052 puts it after the prefix, or in the last 32 bits
        found.append(ipaddress.IPv4Address(value & 0xFFFFFFFF))
        found.append(ipaddress.IPv4Address((value >> 48) & 0xFFFFFFFF))
    if address.sixtofour is not None:
        found.append(address.sixtofour)
    if address.teredo is not None:
        found.extend(address.teredo)
    return found


def address_is_public(address: IPAddress) -> bool:
    """Whether the server may connect to this address: a global unicast one, whatever it embeds too."""
    if isinstance(address, ipaddress.IPv6Address):
        if address.scope_id:
            return False
        embedded = embedded_ipv4(address)
        if not all(address_is_public(inner) for inner in embedded):
            return False
        if address.ipv4_mapped is not None:
            return True  # the connection goes to the mapped IPv4 address, checked above
    return (
        address.is_global
        and not address.is_multicast
        and not address.is_reserved
        and not address.is_unspecified
        and not any(address in network for network in _REFUSED_NETWORKS if network.version == address.version)
    )


def _getaddrinfo(host: str, port: int) -> list:
    return socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)


def addresses_resolve(target: WebhookTarget) -> list[IPAddress]:
    """Resolve the host once; return its addresses if every one may be called, else refuse the URL.
    With WEBHOOK_ALLOW_PRIVATE_ADDRESSES (a development machine's receiver) any address is taken."""
    try:
        literal: IPAddress | None = ipaddress.ip_address(target.host)
    except ValueError:
        literal = None
    if literal is not None:
        addresses = [literal]
    else:
        try:
            infos = _getaddrinfo(target.host, target.port)
            addresses = list(dict.fromkeys(ipaddress.ip_address(info[4][0]) for info in infos))
        except (OSError, UnicodeError, ValueError):
            addresses = []
        if not addresses:
            raise WebhookUrlInvalid(_("The URL's host cannot be found."), HOST_NOT_FOUND)
    if not settings.WEBHOOK_ALLOW_PRIVATE_ADDRESSES and not all(address_is_public(a) for a in addresses):
        raise WebhookUrlInvalid(_("The URL points inside a private network."), ADDRESS_REFUSED)
    return addresses
