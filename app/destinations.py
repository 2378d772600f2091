"""Where a webhook may go: public addresses only (a setting adds private networks), checked on
the address actually connected to, so that neither a literal, a name nor DNS rebinding can
point the service at itself, its network or a cloud metadata service."""

from __future__ import annotations

import http.client
import ipaddress
import socket
import ssl
from urllib.parse import urlsplit

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

#: Cloud metadata services answer with credentials: never a receiver, whatever the settings
#: (AWS, GCP and Azure; AWS over IPv6; Alibaba; Oracle; Azure's host agent, a public address).
_METADATA = {
    ipaddress.ip_address("169.254.169.254"),
    ipaddress.ip_address("fd00:ec2::254"),
    ipaddress.ip_address("100.100.100.200"),
    ipaddress.ip_address("192.0.0.192"),
    ipaddress.ip_address("168.63.129.16"),
}


class Refused(Exception):
    """The URL may not receive webhooks from this service; the message says why."""


def refusal(address: IPAddress, allow_private_networks: bool) -> str | None:
    """Why a webhook may not go to `address`, or None when it may. An IPv6 address that
    carries an IPv4 one (IPv4-mapped, 6to4, Teredo) is checked on what it carries too."""
    for carried in _addresses_in(address):
        reason = _refusal_of(carried, allow_private_networks)
        if reason is not None:
            return reason if carried == address else f"{address} ({reason})"
    return None


def _addresses_in(address: IPAddress) -> list[IPAddress]:
    """The IPv4 addresses inside `address`, which a connection to it may reach, then itself."""
    if not isinstance(address, ipaddress.IPv6Address):
        return [address]
    if address.ipv4_mapped is not None:
        return [address.ipv4_mapped]
    carried: list[IPAddress] = []
    if address.sixtofour is not None:
        carried.append(address.sixtofour)
    if address.teredo is not None:
        carried.extend(address.teredo)  # the Teredo server and the client behind it
    return [*carried, address]


def _refusal_of(address: IPAddress, allow_private_networks: bool) -> str | None:
    if address in _METADATA:
        return f"{address} is a cloud metadata address"
    if address.is_unspecified or address.is_multicast or address.is_reserved:
        return f"{address} is not a unicast address"
    if address.is_global or allow_private_networks:
        return None
    return (
        f"{address} is a loopback, private or link-local address (allowed only with "
        "PODALIGN_WEBHOOK_ALLOW_PRIVATE_NETWORKS)"
    )


def check_url(url: str, allow_private_networks: bool) -> None:
    """What can be known before sending: an http(s) URL with a host that, when written as
    an address (or as `localhost`), is one a webhook may go to. Names are checked on the
    addresses they resolve to, when sending."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise Refused("callback_url must be an http:// or https:// URL with a host.")
    try:
        _ = parts.port
    except ValueError as exc:
        raise Refused(f"callback_url has a bad port ({exc}).") from exc
    address = _literal_address(parts.hostname)
    if address is not None:
        reason = refusal(address, allow_private_networks)
        if reason is not None:
            raise Refused(f"callback_url may not point at {reason}.")


def _literal_address(host: str) -> IPAddress | None:
    """The address `host` spells out, in any form the resolver would accept (`127.1`,
    `0x7f000001`, `[::1]`); `localhost` and its subdomains are loopback by definition."""
    name = host.rstrip(".").lower()
    if name == "localhost" or name.endswith(".localhost"):
        return ipaddress.ip_address("127.0.0.1")
    try:
        return ipaddress.ip_address(name)
    except ValueError:
        pass
    try:
        return ipaddress.ip_address(socket.inet_aton(name))
    except OSError:
        return None


def post(
    url: str, body: bytes, headers: dict[str, str], allow_private_networks: bool, timeout_s: float
) -> int:
    """POST `body` to `url` on an address checked first, following no redirect; the status.
    Refused when the host resolves to an address a webhook may not go to."""
    check_url(url, allow_private_networks)
    parts = urlsplit(url)
    port = parts.port or (443 if parts.scheme == "https" else 80)
    address = _checked_address(parts.hostname or "", port, allow_private_networks)
    connection = _connection(parts.scheme, parts.hostname or "", port, address, timeout_s)
    try:
        path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        connection.request("POST", path, body, headers)
        return connection.getresponse().status
    finally:
        connection.close()


def _checked_address(host: str, port: int, allow_private_networks: bool) -> str:
    """Resolve once; every address the name has must be allowed (a name with one private
    address among public ones is refused), and the first is the one connected to."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    addresses = [str(info[4][0]) for info in infos]
    for text in addresses:
        reason = refusal(ipaddress.ip_address(text.split("%")[0]), allow_private_networks)
        if reason is not None:
            raise Refused(f"{host} resolves to {reason}")
    return addresses[0]


def _connection(
    scheme: str, host: str, port: int, address: str, timeout_s: float
) -> http.client.HTTPConnection:
    if scheme == "https":
        return _PinnedHTTPS(host, port, address, timeout_s)
    return _PinnedHTTP(host, port, address, timeout_s)


class _PinnedHTTP(http.client.HTTPConnection):
    """Talks to `host` (its Host header) at the already checked `address`."""

    def __init__(self, host: str, port: int, address: str, timeout_s: float) -> None:
        super().__init__(host, port, timeout=timeout_s)
        self._address = address

    def connect(self) -> None:
        self.sock = socket.create_connection((self._address, self.port), self.timeout)


class _PinnedHTTPS(http.client.HTTPSConnection):
    """Like `_PinnedHTTP`, with TLS that verifies the certificate for `host`."""

    def __init__(self, host: str, port: int, address: str, timeout_s: float) -> None:
        self._tls = ssl.create_default_context()
        super().__init__(host, port, timeout=timeout_s, context=self._tls)
        self._address = address

    def connect(self) -> None:
        raw = socket.create_connection((self._address, self.port), self.timeout)
        self.sock = self._tls.wrap_socket(raw, server_hostname=self.host)
