"""Callback URLs a tenant may not use on a server with keys: any that reach loopback, private,
link-local, reserved or multicast addresses, literally or through a name."""

import asyncio
import re
import socket
from typing import Any

import pytest

from agentbatch.api.callback_urls import refuse_internal_callback_url
from agentbatch.domain.errors import InvalidRequest

PUBLIC = ["93.184.215.14", "8.8.8.8", "[2606:4700:4700::1111]", "1.1.1.1:8443", "[::ffff:8.8.8.8]"]
"""Public hosts, an IPv4-mapped IPv6 form of a public address included (judged as the IPv4 address)."""
INTERNAL = [
    "127.0.0.1",
    "127.8.9.10",
    "10.0.0.5",
    "172.16.3.4",
    "192.168.1.1",
    "169.254.169.254",
    "0.0.0.0",
    "224.0.0.1",
    "240.0.0.1",
    "[::1]",
    "[fd00::1]",
    "[fe80::1]",
    "[::ffff:127.0.0.1]",
    "[::ffff:10.1.2.3]",
    "[::]",
]


@pytest.mark.parametrize("host", PUBLIC)
async def test_a_public_address_is_accepted(host: str) -> None:
    await refuse_internal_callback_url(f"https://{host}/hook")


@pytest.mark.parametrize("host", INTERNAL)
async def test_an_internal_address_is_refused_naming_it(host: str) -> None:
    with pytest.raises(InvalidRequest) as refused:
        await refuse_internal_callback_url(f"http://{host}:8080/hook")
    assert refused.value.status_code == 400
    assert "loopback, private or link-local" in refused.value.detail
    assert "AGENTBATCH_CALLBACK_ALLOW_PRIVATE_URLS" in refused.value.detail


async def test_a_name_that_resolves_to_loopback_is_refused() -> None:
    with pytest.raises(InvalidRequest, match="'localhost' resolves to"):
        await refuse_internal_callback_url("http://localhost/hook")


def _resolving_to(*addresses: str) -> Any:
    async def getaddrinfo(host: str, port: int, **_kwargs: Any) -> list[Any]:
        return [
            (socket.AF_INET6 if ":" in a else socket.AF_INET, socket.SOCK_STREAM, 6, "", (a, port))
            for a in addresses
        ]

    return getaddrinfo


async def test_a_name_is_refused_if_any_of_its_addresses_is_internal(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(asyncio.get_running_loop(), "getaddrinfo", _resolving_to("93.184.215.14", "10.0.0.7"))
    with pytest.raises(InvalidRequest, match=re.escape("resolves to 10.0.0.7")):
        await refuse_internal_callback_url("https://hooks.example.com/done")


async def test_a_name_whose_addresses_are_all_public_is_accepted(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(
        asyncio.get_running_loop(), "getaddrinfo", _resolving_to("93.184.215.14", "2606:4700::6810:84e5")
    )
    await refuse_internal_callback_url("https://hooks.example.com/done")


async def test_a_scoped_link_local_address_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(asyncio.get_running_loop(), "getaddrinfo", _resolving_to("fe80::1%eth0"))
    with pytest.raises(InvalidRequest, match="fe80::1%eth0"):
        await refuse_internal_callback_url("https://hooks.example.com/done")


async def test_a_name_that_does_not_resolve_is_refused_saying_so(monkeypatch: pytest.MonkeyPatch) -> None:
    async def unresolvable(host: str, port: int, **_kwargs: Any) -> list[Any]:
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    monkeypatch.setattr(asyncio.get_running_loop(), "getaddrinfo", unresolvable)
    with pytest.raises(InvalidRequest, match=re.escape("host 'nowhere.example' does not resolve")):
        await refuse_internal_callback_url("https://nowhere.example/hook")


@pytest.mark.parametrize("url", ["http://8.8.8.8:99999/x", "http://8.8.8.8:port/x"])
async def test_an_invalid_port_is_refused_as_bad_input(url: str) -> None:
    with pytest.raises(InvalidRequest, match="invalid port"):
        await refuse_internal_callback_url(url)


@pytest.mark.parametrize(("url", "port"), [("https://h.example/x", 443), ("http://h.example/x", 80)])
async def test_the_schemes_default_port_is_the_one_resolved(
    monkeypatch: pytest.MonkeyPatch, url: str, port: int
) -> None:
    asked: list[int] = []

    async def getaddrinfo(host: str, asked_port: int, **_kwargs: Any) -> list[Any]:
        asked.append(asked_port)
        return [(socket.AF_INET, socket.SOCK_STREAM, 6, "", ("93.184.215.14", asked_port))]

    monkeypatch.setattr(asyncio.get_running_loop(), "getaddrinfo", getaddrinfo)
    await refuse_internal_callback_url(url)
    assert asked == [port]
