"""Test machines on one box: network namespaces joined to a bridge by veth pairs (iproute2, as root).

    root namespace: bridge ab<tag> 10.213.N.1/24  ── PostgreSQL forwarder, emulator listen here
        ├── veth av<tag><i> ──▶ namespace ah<tag><i>: ap<tag><i> 10.213.N.(10+i)/24
        └── …

Cutting a host takes its veth's root end down: the host keeps running, its packets go nowhere, exactly
as when a machine's cable is pulled. Everything made here is removed by ``close``.
"""

import os
import random
import shutil
import subprocess
from dataclasses import dataclass


def can_make_hosts() -> str | None:
    """Why test hosts cannot be made here, or None."""
    if os.geteuid() != 0:
        return "network namespaces need root"
    if shutil.which("ip") is None:
        return "iproute2 (`ip`) is not installed"
    probe = f"abprobe{os.getpid() % 100000}"
    made = subprocess.run(["ip", "netns", "add", probe], capture_output=True)
    if made.returncode != 0:
        return f"cannot create a network namespace: {made.stderr.decode().strip()}"
    subprocess.run(["ip", "netns", "del", probe], capture_output=True)
    return None


def _ip(*args: str) -> None:
    subprocess.run(["ip", *args], check=True, capture_output=True)


@dataclass(frozen=True)
class NetHost:
    namespace: str
    root_end: str
    address: str

    @property
    def prefix(self) -> list[str]:
        """Run a command on this host."""
        return ["ip", "netns", "exec", self.namespace]


class HostNetwork:
    def __init__(self) -> None:
        self.tag = f"{os.getpid() % 10000}{random.randrange(100):02d}"
        used = subprocess.run(["ip", "-4", "addr"], capture_output=True, text=True).stdout
        self.subnet = next(n for n in random.sample(range(1, 250), 249) if f"10.213.{n}." not in used)
        self.bridge = f"ab{self.tag}"
        self.gateway = f"10.213.{self.subnet}.1"  # the root namespace's address on the bridge
        self.hosts: list[NetHost] = []
        _ip("link", "add", self.bridge, "type", "bridge")
        _ip("addr", "add", f"{self.gateway}/24", "dev", self.bridge)
        _ip("link", "set", self.bridge, "up")

    def add_host(self) -> NetHost:
        i = len(self.hosts)
        host = NetHost(f"ah{self.tag}{i}", f"av{self.tag}{i}", f"10.213.{self.subnet}.{10 + i}")
        inner = f"ap{self.tag}{i}"
        self.hosts.append(host)
        _ip("netns", "add", host.namespace)
        _ip("link", "add", host.root_end, "type", "veth", "peer", "name", inner)
        _ip("link", "set", inner, "netns", host.namespace)
        _ip("link", "set", host.root_end, "master", self.bridge, "up")
        _ip("-n", host.namespace, "addr", "add", f"{host.address}/24", "dev", inner)
        _ip("-n", host.namespace, "link", "set", inner, "up")
        _ip("-n", host.namespace, "link", "set", "lo", "up")
        return host

    def cut(self, host: NetHost) -> None:
        _ip("link", "set", host.root_end, "down")

    def restore(self, host: NetHost) -> None:
        _ip("link", "set", host.root_end, "up")

    def close(self) -> None:
        for host in self.hosts:
            subprocess.run(["ip", "netns", "del", host.namespace], capture_output=True)  # takes its veth
            subprocess.run(["ip", "link", "del", host.root_end], capture_output=True)
        subprocess.run(["ip", "link", "del", self.bridge], capture_output=True)
