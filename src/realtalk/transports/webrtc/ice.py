"""How a call's peer connection finds its way to the browser: ICE servers and host candidates.

With no ICE servers, realtalk offers its host addresses only; that suffices on one machine or a LAN.
Behind NAT, a deployment names a STUN server (to learn its public address) and usually a TURN relay
(for callers whose network blocks direct UDP) — the same servers its browser clients are given.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import aioice.ice
from aiortc import RTCConfiguration, RTCIceServer

_gather_host_addresses = aioice.ice.get_host_addresses


@dataclass(frozen=True)
class IceSettings:
    servers: Sequence[str] = ()  # stun:host:port / turn:host:port?transport=udp / turns:…
    username: str | None = None  # TURN credentials, for every turn: server
    credential: str | None = None
    host_addresses: Sequence[str] = field(default_factory=tuple)  # offer only these; empty = every interface

    def configuration(self) -> RTCConfiguration:
        servers = [
            RTCIceServer(url, self.username, self.credential) if url.startswith("turn") else RTCIceServer(url)
            for url in self.servers
        ]
        return RTCConfiguration(iceServers=servers)


def offer_host_addresses(addresses: Sequence[str]) -> None:
    """Gather host candidates on `addresses` only, for every peer connection of this process.

    aioice has no per-connection setting for it, so its address lookup is replaced; with no addresses
    the lookup is its own, and on a machine with no other interface it falls back to loopback.
    """
    chosen = list(addresses)

    def host_addresses(use_ipv4: bool, use_ipv6: bool) -> list[str]:
        if chosen:
            return [a for a in chosen if (":" in a and use_ipv6) or (":" not in a and use_ipv4)]
        return _gather_host_addresses(use_ipv4, use_ipv6) or ["127.0.0.1"]

    aioice.ice.get_host_addresses = host_addresses
