"""The address guard (§12): a webhook may not probe the server's own network.

A URL is `https`, or `http` to a host that `WEBHOOK_ALLOWED_HOSTS` names. Its host is resolved
and every address it resolves to must be public: private, loopback, link-local, shared,
multicast, reserved and unspecified networks are refused — IPv6 ones too, and IPv4 addresses
carried inside IPv6 (mapped, 6to4, Teredo, NAT64) as the address they carry — unless the setting names
the host or a network holding the address. Deliveries connect to an address checked here (never
resolving the name again) and follow no redirect.
"""
from __future__ import annotations

import ipaddress
import socket
from urllib.parse import urlsplit

from django.conf import settings

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
NAT64 = ipaddress.ip_network("64:ff9b::/96")


class AddressRefused(Exception):
    """The URL may not be called; the message says why."""


def _allowances() -> tuple[set[str], list]:
    names, networks = set(), []
    for entry in settings.WEBHOOK_ALLOWED_HOSTS:
        try:
            networks.append(ipaddress.ip_network(entry.strip("[]"), strict=False))
        except ValueError:
            names.add(entry.lower().rstrip("."))
    return names, networks


def _carried(address: IPAddress) -> IPAddress:
    """The IPv4 address an IPv6 one stands for, where it stands for one."""
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped:
            return address.ipv4_mapped
        if address.sixtofour:
            return address.sixtofour
        if address.teredo:
            return address.teredo[1]
        if address in NAT64:
            return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return address


def is_public(address: IPAddress) -> bool:
    address = _carried(address)
    return address.is_global and not address.is_multicast


def resolve(host: str, port: int) -> list[IPAddress]:
    """Every address the host resolves to (a literal address is itself)."""
    try:
        return [ipaddress.ip_address(host)]
    except ValueError:
        pass
    try:
        found = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise LookupError(f"{host} does not resolve ({exc}).") from None
    # An address with a zone (fe80::1%eth0) is link-local; the zone does not make it less so.
    return list(dict.fromkeys(ipaddress.ip_address(info[4][0].split("%")[0]) for info in found))


def url_checked(url: str) -> tuple[str, int]:
    """(host, port) of a URL whose form may be called (the scheme, no credentials); raises AddressRefused."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise AddressRefused("Not a valid URL.") from None
    host = (parts.hostname or "").rstrip(".")
    if parts.scheme not in ("http", "https") or not host:
        raise AddressRefused("Must be an https URL.")
    if parts.username or parts.password:
        raise AddressRefused("Must not carry a user name or password.")
    names, networks = _allowances()
    if parts.scheme == "http" and host.lower() not in names and not _in(host, networks):
        raise AddressRefused("Must be https (plain http only to a host in WEBHOOK_ALLOWED_HOSTS).")
    return host, port or (443 if parts.scheme == "https" else 80)


def _in(host: str, networks: list) -> bool:
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    return any(address in network for network in networks)


def addresses_checked(host: str, port: int) -> list[IPAddress]:
    """The host's addresses, every one of them allowed; raises AddressRefused (or LookupError)."""
    names, networks = _allowances()
    addresses = resolve(host, port)
    if host.lower() in names:
        return addresses
    refused = [a for a in addresses if not is_public(a) and not any(a in network for network in networks)]
    if refused:
        raise AddressRefused(f"{host} resolves to {', '.join(map(str, refused))}, on a private, loopback or "
                             "link-local network (allowed only by WEBHOOK_ALLOWED_HOSTS).")
    return addresses


def url_refusal(url: str) -> str | None:
    """Why an endpoint may not be registered with this URL, or None. A host that does not resolve
    (yet) is accepted: its deliveries fail and are retried until it does."""
    try:
        addresses_checked(*url_checked(url))
    except AddressRefused as exc:
        return str(exc)
    except LookupError:
        return None
    return None
