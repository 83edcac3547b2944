"""A real DNS server on 127.0.0.1 for tests (dnslib, UDP and TCP on one free port), answering
from a table the test writes and may change between lookups."""

from __future__ import annotations

import socket

from dnslib import AAAA, MX, QTYPE, RCODE, RR, TXT, A
from dnslib.server import DNSLogger, DNSServer

HOST = "127.0.0.1"


class Table:
    """(name, type) -> values: 'TXT' values are strings (split into 255-octet strings as DNS
    needs), 'MX' values (preference, host), 'A'/'AAAA' addresses. A name with no entry at all
    is NXDOMAIN; a name with other types only gets an empty answer."""

    def __init__(self, records: dict[tuple[str, str], list] | None = None) -> None:
        self.records: dict[tuple[str, str], list] = {}
        for (name, kind), values in (records or {}).items():
            self.set(name, kind, values)
        self.asked: list[tuple[str, str]] = []

    def set(self, name: str, kind: str, values: list | None) -> None:
        key = (name.lower().rstrip("."), kind)
        if values is None:
            self.records.pop(key, None)
        else:
            self.records[key] = list(values)

    def resolve(self, request, handler):
        reply = request.reply()
        name = str(request.q.qname).rstrip(".").lower()
        kind = QTYPE[request.q.qtype]
        self.asked.append((name, kind))
        values = self.records.get((name, kind))
        if values is None:
            if not any(n == name for n, _ in self.records):
                reply.header.rcode = RCODE.NXDOMAIN
            return reply
        for value in values:
            if kind == "TXT":
                data = value.encode()
                rdata = TXT([data[i:i + 255] for i in range(0, len(data), 255)] or [b""])
            elif kind == "MX":
                rdata = MX(value[1], value[0])
            elif kind == "A":
                rdata = A(value)
            elif kind == "AAAA":
                rdata = AAAA(value)
            else:  # pragma: no cover - a test asked for a type this table does not serve
                raise ValueError(kind)
            reply.add_answer(RR(name, getattr(QTYPE, kind), rdata=rdata, ttl=60))
        return reply


class DnsServer:
    """`with DnsServer(table) as dns:` serves `table` at dns.address ('127.0.0.1:PORT')."""

    def __init__(self, table: Table) -> None:
        self.table = table
        self.servers: list[DNSServer] = []

    @property
    def address(self) -> str:
        return f"{HOST}:{self.port}"

    def __enter__(self) -> DnsServer:
        quiet = DNSLogger(logf=lambda text: None)
        for _ in range(20):  # UDP and TCP on the same free port; retry if TCP's is taken
            udp = DNSServer(self.table, address=HOST, port=0, logger=quiet)
            self.port = udp.server.server_address[1]
            try:
                tcp = DNSServer(self.table, address=HOST, port=self.port, tcp=True,
                                logger=quiet)
            except OSError:
                udp.server.server_close()
                continue
            self.servers = [udp, tcp]
            break
        else:  # pragma: no cover
            raise RuntimeError("no free port for the test DNS server")
        for server in self.servers:
            server.start_thread()
        return self

    def __exit__(self, *exc: object) -> None:
        for server in self.servers:
            server.stop()
            server.server.server_close()


def closed_port() -> str:
    """An address where nothing answers DNS (a port bound and closed again)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.bind((HOST, 0))
        return f"{HOST}:{s.getsockname()[1]}"
