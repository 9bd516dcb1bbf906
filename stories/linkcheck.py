"""Check that one link to a source article still answers, safely.

The URLs come from whoever writes a story, so the checker must not become a
way to reach the newsroom's own network: only http and https, only hosts
whose every address is public, and the request goes to the very address that
was checked. Redirects are followed by hand so each hop is checked the same
way. Standard library only: urllib would resolve the name a second time and
honour proxy variables, either of which could send the request elsewhere.
"""

import http.client
import ipaddress
import socket
import ssl
from dataclasses import dataclass
from functools import cache
from urllib.parse import quote, urljoin, urlsplit

from django.conf import settings

SCHEMES = {"http": 80, "https": 443}
MAX_REDIRECTS = 5
REDIRECT_CODES = {301, 302, 303, 307, 308}
# Answers meaning "no HEAD here": ask again with GET.
HEAD_REFUSED_CODES = {405, 501}
# Characters left as they are in a request target; anything else (spaces,
# non-ASCII) is percent-encoded, as a browser would.
TARGET_SAFE = "!#$%&'()*+,/:;=?@[]~"
NAT64_PREFIX = ipaddress.ip_network("64:ff9b::/96")


@dataclass(frozen=True)
class LinkResult:
    ok: bool
    status_code: int | None = None
    error: str = ""


class Refused(Exception):
    """A link the checker will not request; the message says why."""


def user_agent() -> str:
    return f"Newsroom link checker (+{settings.SITE_URL})"


def check_url(url: str, *, timeout: float | None = None) -> LinkResult:
    """Whether url answers with success, after at most MAX_REDIRECTS
    redirects; never raises for a bad link."""
    if timeout is None:
        timeout = settings.LINK_CHECK_TIMEOUT_SECONDS
    try:
        return _follow(url, timeout)
    except Refused as refusal:
        return LinkResult(ok=False, error=str(refusal))
    except socket.gaierror:
        return LinkResult(ok=False, error="Host name not found")
    except TimeoutError:
        return LinkResult(ok=False, error="Timed out")
    except ConnectionRefusedError:
        return LinkResult(ok=False, error="Connection refused")
    except ssl.SSLCertVerificationError as error:
        return LinkResult(
            ok=False, error=f"TLS certificate not valid: {error.verify_message}"
        )
    except ssl.SSLError as error:
        return LinkResult(ok=False, error=f"TLS error: {error.reason or error}")
    except http.client.HTTPException as error:
        # Before OSError: RemoteDisconnected is both.
        return LinkResult(
            ok=False, error=f"Not a valid HTTP answer ({type(error).__name__})"
        )
    except OSError as error:
        return LinkResult(
            ok=False, error=f"Connection failed: {error.strerror or error}"
        )
    except ValueError:
        # A header or address http.client or ipaddress will not accept.
        return LinkResult(ok=False, error="Not a valid address")


def _follow(url: str, timeout: float) -> LinkResult:
    for _hop in range(MAX_REDIRECTS + 1):
        status, location = _request(url, "HEAD", timeout)
        if status in HEAD_REFUSED_CODES:
            status, location = _request(url, "GET", timeout)
        if status in REDIRECT_CODES and location:
            url = urljoin(url, location)
            continue
        if 200 <= status < 300:
            return LinkResult(ok=True, status_code=status)
        return LinkResult(ok=False, status_code=status)
    return LinkResult(ok=False, error=f"More than {MAX_REDIRECTS} redirects")


def _request(url: str, method: str, timeout: float) -> tuple[int, str]:
    """Send one request for url; return the status and any Location."""
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme not in SCHEMES:
        raise Refused("Not checked: only http and https links are")
    try:
        host = parts.hostname
        port = parts.port or SCHEMES[scheme]
    except ValueError:
        raise Refused("Not a valid address") from None
    if not host:
        raise Refused("Not a valid address")
    try:
        ascii_host = host.encode("idna").decode("ascii")
    except UnicodeError:
        raise Refused("Not a valid host name") from None
    addresses = resolve(ascii_host, port)
    connection = PinnedConnection(
        addresses,
        port,
        timeout=timeout,
        tls_hostname=ascii_host if scheme == "https" else None,
    )
    netloc = f"[{ascii_host}]" if ":" in ascii_host else ascii_host
    if port != SCHEMES[scheme]:
        netloc = f"{netloc}:{port}"
    target = quote(parts.path or "/", safe=TARGET_SAFE)
    if parts.query:
        target += "?" + quote(parts.query, safe=TARGET_SAFE)
    try:
        connection.request(
            method,
            target,
            headers={
                "Host": netloc,
                "User-Agent": user_agent(),
                "Accept": "*/*",
                "Connection": "close",
            },
        )
        # Only the status line and headers are read, whatever the method:
        # closing the connection abandons any body.
        response = connection.getresponse()
        return response.status, response.getheader("Location", "")
    finally:
        connection.close()


def resolve(host: str, port: int) -> list[tuple]:
    """host's addresses as (family, sockaddr) pairs; Refused if any of them
    is not public, unless the setting allows it (for tests only)."""
    found = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    addresses = [(family, sockaddr) for family, _, _, _, sockaddr in found]
    if not settings.LINK_CHECK_ALLOW_PRIVATE_ADDRESSES:
        # Any, not just the first: the connection may use another one, and a
        # name that also points inside the network is not a public source.
        for _family, sockaddr in addresses:
            if not is_public_address(sockaddr[0]):
                raise Refused("Not checked: the host's address is not public")
    return addresses


def is_public_address(text: str) -> bool:
    """Whether text is an IP address on the public internet."""
    address = ipaddress.ip_address(text.split("%", 1)[0])
    if address.version == 6:
        # Addresses that carry an IPv4 address reach that address.
        if address.ipv4_mapped is not None:
            address = address.ipv4_mapped
        elif address.sixtofour is not None:
            address = address.sixtofour
        elif address in NAT64_PREFIX:
            address = ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return address.is_global and not (
        address.is_multicast or address.is_reserved or address.is_private
    )


@cache
def _tls_context() -> ssl.SSLContext:
    # Certificates checked against the system's CAs and the host name.
    return ssl.create_default_context()


def open_socket(addresses: list[tuple], timeout: float) -> socket.socket:
    """A TCP connection to the first of addresses that accepts one."""
    error = OSError("No address to connect to")
    for family, sockaddr in addresses:
        sock = socket.socket(family, socket.SOCK_STREAM)
        sock.settimeout(timeout)
        try:
            sock.connect(sockaddr)
        except OSError as failure:
            sock.close()
            error = failure
        else:
            return sock
    raise error


class PinnedConnection(http.client.HTTPConnection):
    """An HTTP(S) connection to addresses already resolved and checked.

    http.client would look the name up again when connecting, and a DNS
    server answering differently the second time (rebinding) could point
    it at an internal address; connecting to the checked address closes
    that gap. TLS still uses the real host name for SNI and for verifying
    the certificate, and the Host header names it too.
    """

    def __init__(self, addresses, port, *, timeout, tls_hostname=None):
        # The port is given, so http.client does not parse it out of an
        # IPv6 address.
        super().__init__(addresses[0][1][0], port, timeout=timeout)
        self.addresses = addresses
        self.tls_hostname = tls_hostname

    def connect(self):
        self.sock = open_socket(self.addresses, self.timeout)
        if self.tls_hostname:
            self.sock = _tls_context().wrap_socket(
                self.sock, server_hostname=self.tls_hostname
            )
