"""Callback URLs that would reach into the server's own network are refused when API keys are on.

A tenant could otherwise make the server POST to loopback, private (RFC 1918, ULA) or link-local
addresses, cloud metadata services included. Every address the host name resolves to is checked;
``AGENTBATCH_CALLBACK_ALLOW_PRIVATE_URLS`` lets an operator who wants internal receivers accept them.
"""

import asyncio
import ipaddress
import socket
from urllib.parse import urlsplit

from agentbatch.domain.errors import InvalidRequest


def _is_internal(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return (
        ip.is_loopback
        or ip.is_private
        or ip.is_link_local
        or ip.is_reserved
        or ip.is_multicast
        or ip.is_unspecified
    )


async def refuse_internal_callback_url(url: str) -> None:
    """Raise 400 if ``url``'s host is, or resolves to, a loopback, private or link-local address."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    try:
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError as bad_port:
        raise InvalidRequest(f"callback_url has an invalid port: {url}") from bad_port
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except OSError as unresolvable:
        raise InvalidRequest(f"callback_url host {host!r} does not resolve: {unresolvable}") from unresolvable
    for *_ignored, sockaddr in infos:
        address = str(sockaddr[0])
        if _is_internal(address):
            raise InvalidRequest(
                f"callback_url host {host!r} resolves to {address}, a loopback, private or link-local "
                "address; this server refuses those (AGENTBATCH_CALLBACK_ALLOW_PRIVATE_URLS allows them)"
            )
