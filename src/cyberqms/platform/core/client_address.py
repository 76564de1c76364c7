"""The client's address: the peer, or, behind trusted reverse proxies, the address the
proxies forwarded.

Each proxy appends the address it received the request from to `X-Forwarded-For`, so
the list read from the right, starting at the peer (`REMOTE_ADDR`), walks back towards
the client. Only what trusted proxies wrote is believed: the walk steps left past a hop
only while that hop is a trusted proxy (its address is in `CYBERQMS_TRUSTED_PROXIES`,
and, with `CYBERQMS_PROXY_HOPS`, it is one of the first that many hops). Everything left
of where the walk stops was written by the client, or by someone who reached us without
passing the proxy, and is ignored. With neither setting (the default) the client is the
peer and the header is never read.

`RequestContextMiddleware` derives the address once per request; the audit trail,
access decisions, security events, django-axes, allauth and integration allow-lists all
read that one value (`request_client_address`).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping, Sequence
from typing import Any

from django.conf import settings
from django.http import HttpRequest

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network

_ATTRIBUTE = "cyberqms_client_address"


def _address(text: str) -> Address | None:
    try:
        address = ipaddress.ip_address(text.strip())
    except ValueError:
        return None
    # An IPv4 peer seen through an IPv6 socket (::ffff:192.0.2.1) is the IPv4 address.
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def client_address(meta: Mapping[str, Any], *, trusted: Sequence[str], hops: int) -> str:
    """The client's address for a request with these WSGI ``meta`` variables.

    ``trusted`` lists the proxies' networks (CIDR); ``hops`` is how many proxies stand in
    front of the application (0: no limit when ``trusted`` is given). A forwarded entry
    that is not a bare IP address stops the walk: the last trusted hop is kept.
    """
    peer = str(meta.get("REMOTE_ADDR") or "")
    if not trusted and not hops:
        return peer
    current = _address(peer)
    if current is None:
        return peer
    networks = [ipaddress.ip_network(entry, strict=False) for entry in trusted]
    forwarded = [part for part in str(meta.get("HTTP_X_FORWARDED_FOR") or "").split(",")
                 if part.strip()]
    for step, entry in enumerate(reversed(forwarded)):
        if not _is_proxy(current, step, networks, hops):
            break
        previous = _address(entry)
        if previous is None:
            break
        current = previous
    return str(current)


def _is_proxy(address: Address, step: int, networks: Sequence[Network], hops: int) -> bool:
    if hops and step >= hops:
        return False
    if not networks:
        return True
    return any(address.version == network.version and address in network
               for network in networks)


def request_client_address(request: HttpRequest) -> str:
    """The client address of ``request``, derived on first use and kept on the request."""
    known = getattr(request, _ATTRIBUTE, None)
    if known is None:
        known = client_address(request.META, trusted=settings.CYBERQMS_TRUSTED_PROXIES,
                               hops=settings.CYBERQMS_PROXY_HOPS)
        setattr(request, _ATTRIBUTE, known)
    return str(known)
