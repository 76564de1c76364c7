"""The syslog listener: UDP and TCP receivers feeding `services.ingest` through one queue.

Receivers run on an asyncio loop and never touch the database. They recognise the sender
by address (`EventSource.addresses`, IPs or CIDR ranges), frame TCP streams with
`FrameDecoder` (octet counting or newline), and put each frame on a bounded queue. One
writer takes batches off the queue (up to `batch_size` events or `batch_ms` milliseconds)
and calls `ingest` in a single database thread, so Django's ORM stays off the event loop.

Nothing is dropped silently (A11-10): TCP readers wait when the queue is full (the
sender's socket fills, TCP pushes back); UDP datagrams wait up to `overflow_wait` seconds
for room and are then counted as overflow and reported as a `monitoring.overflow`
security event. Datagrams the operating system dropped before the listener could read them
(its receive buffer full) are counted from the socket's drop counter (Linux) and reported
the same way. The highest queue depth seen is kept in the stats. Unknown senders are not
ingested: each address is reported as `monitoring.source.unknown` at most once a minute
and counted.

Each event is stamped with its receive time here (``ListenerConfig.clock``); detection runs
on it instead of the claimed time when the claim is too far ahead or too late
(``services.ingest_received``), and the stats count those events (``ahead``, ``late``).
"""

from __future__ import annotations

import asyncio
import contextlib
import ipaddress
import logging
import os
import socket
import time
from collections import Counter, deque
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db import close_old_connections, connections
from django.utils import timezone

from cyberqms.platform.core.context import RequestContext, acting_context
from cyberqms.platform.core.events import emit_security_event
from cyberqms.platform.core.models import Severity
from cyberqms.security.detect.parsers import FrameDecoder, ParseError
from cyberqms.security.monitoring.models import EventSource
from cyberqms.security.monitoring.services import Received, ingest_received

logger = logging.getLogger("cyberqms.security.transport.listener")

Address = ipaddress.IPv4Address | ipaddress.IPv6Address
Network = ipaddress.IPv4Network | ipaddress.IPv6Network

REPORT_EVERY_S = 60.0  # one security event per address and kind at most this often


@dataclass(frozen=True)
class ListenerConfig:
    host: str = "127.0.0.1"
    udp_port: int | None = 5514  # None: no UDP receiver; 0: an ephemeral port
    tcp_port: int | None = 5514
    max_frame: int = 1024 * 1024  # TCP frames above this are refused by the decoder
    queue_size: int = 20_000
    batch_size: int = 1000
    batch_ms: int = 200
    overflow_wait: float = 2.0  # seconds a UDP datagram may wait for room in the queue
    stats_interval: float = 60.0  # seconds between stats lines; 0: none
    refresh_interval: float = 15.0  # seconds between reloads of the source directory
    udp_buffer: int = 4 * 1024 * 1024  # receive buffer asked for (the kernel may cap it)
    drops_interval: float = 2.0  # seconds between reads of the UDP socket's drop counter
    clock: Callable[[], datetime] = timezone.now  # stamps each event's receive time


@dataclass
class ListenerStats:
    received: int = 0  # frames and datagrams from known senders
    accepted: int = 0
    quarantined: int = 0
    alerts: int = 0
    unknown: int = 0  # datagrams and connections from unknown senders
    overflow: int = 0  # UDP datagrams that found no room in the queue in time
    rejected: int = 0  # TCP frames refused by the framing (over the hard limit, truncated)
    failed: int = 0  # events whose batch could not be written
    dropped: int = 0  # UDP datagrams the operating system dropped (receive buffer full)
    ahead: int = 0  # events that claimed a time ahead of their receipt (on receive time)
    late: int = 0  # events older than the lateness bound (processed on receive time)
    peak: int = 0  # highest queue depth seen
    reasons: Counter[str] = field(default_factory=Counter)

    def line(self, depth: int) -> str:
        return (
            f"received={self.received} accepted={self.accepted} "
            f"quarantined={self.quarantined} alerts={self.alerts} unknown={self.unknown} "
            f"overflow={self.overflow} dropped={self.dropped} rejected={self.rejected} "
            f"failed={self.failed} ahead={self.ahead} late={self.late} queue={depth} "
            f"peak={self.peak}"
        )


class SourceDirectory:
    """Sender address → active source, from `EventSource.addresses` (IPs or CIDR ranges).

    `load` reads the database (call it off the event loop); `lookup` is pure Python."""

    def __init__(self) -> None:
        self._sources: dict[int, EventSource] = {}
        self._exact: dict[Address, int] = {}
        self._networks: list[tuple[Network, int]] = []
        self._cache: dict[str, int | None] = {}

    def load(self) -> None:
        sources: dict[int, EventSource] = {}
        exact: dict[Address, int] = {}
        networks: list[tuple[Network, int]] = []
        for source in EventSource.objects.filter(is_active=True).select_related("site"):
            for entry in source.addresses or []:
                try:
                    network = ipaddress.ip_network(str(entry).strip(), strict=False)
                except ValueError:
                    logger.warning("source %s: ignoring address %r", source.name, entry)
                    continue
                sources[source.pk] = source
                if network.num_addresses == 1:
                    exact.setdefault(network.network_address, source.pk)
                else:
                    networks.append((network, source.pk))
        # Most specific range first, so a host range inside a site range wins.
        networks.sort(key=lambda item: -item[0].prefixlen)
        self._sources, self._exact, self._networks, self._cache = sources, exact, networks, {}

    def source(self, pk: int) -> EventSource | None:
        return self._sources.get(pk)

    def lookup(self, host: str) -> int | None:
        """The id of the source sending from ``host``, or None."""
        if host in self._cache:
            return self._cache[host]
        found: int | None = None
        try:
            address = ipaddress.ip_address(host.split("%", 1)[0])
        except ValueError:
            address = None
        if address is not None:
            mapped = getattr(address, "ipv4_mapped", None)
            candidates = [address] + ([mapped] if mapped is not None else [])
            for candidate in candidates:
                found = self._exact.get(candidate)
                if found is None:
                    found = next((pk for net, pk in self._networks
                                  if candidate.version == net.version and candidate in net),
                                 None)
                if found is not None:
                    break
        if len(self._cache) > 10_000:
            self._cache.clear()
        self._cache[host] = found
        return found


@dataclass(slots=True)
class _Item:
    source_id: int
    channel: str
    payload: bytes | ParseError  # a frame the framing rejected is quarantined as such
    received_at: datetime
    address: str


class SyslogListener:
    """UDP and TCP syslog receivers, a bounded queue and one batching writer."""

    def __init__(
        self, config: ListenerConfig, *, report: Callable[[str], None] | None = None
    ) -> None:
        self.config = config
        self.stats = ListenerStats()
        self.directory = SourceDirectory()
        self.report = report or (lambda line: logger.info("%s", line))
        self.udp_port: int | None = None
        self.tcp_port: int | None = None
        self.udp_buffer: int | None = None  # the receive buffer the kernel granted
        self._udp_inode: int | None = None
        self._udp_drops: int | None = None  # the socket's drop counter when last read
        self._queue: asyncio.Queue[_Item | None] = asyncio.Queue(maxsize=config.queue_size)
        self._db = ThreadPoolExecutor(max_workers=1, thread_name_prefix="cyberqms-syslog-db")
        self._udp_transport: asyncio.DatagramTransport | None = None
        self._tcp_server: asyncio.Server | None = None
        self._connections: set[asyncio.StreamWriter] = set()
        self._handlers: set[asyncio.Task[None]] = set()
        self._tasks: list[asyncio.Task[None]] = []
        self._udp_waiting: deque[tuple[float, _Item]] = deque()
        self._udp_wakeup = asyncio.Event()
        self._reported: dict[tuple[str, str], float] = {}
        self._unreported: Counter[tuple[str, str]] = Counter()
        self._writer: asyncio.Task[None] | None = None
        self._stopping = False

    # --- life cycle ---------------------------------------------------------------------

    async def start(self) -> None:
        """Load the source directory and bind the receivers (ports 0 pick free ones)."""
        await self._in_db(self.directory.load)
        loop = asyncio.get_running_loop()
        cfg = self.config
        if cfg.udp_port is not None:
            transport, _ = await loop.create_datagram_endpoint(
                lambda: _UdpProtocol(self), local_addr=(cfg.host, cfg.udp_port)
            )
            self._udp_transport = transport
            self.udp_port = transport.get_extra_info("sockname")[1]
            sock = transport.get_extra_info("socket")
            with contextlib.suppress(OSError):
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, cfg.udp_buffer)
            self.udp_buffer = sock.getsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF)
            self._udp_inode = os.fstat(sock.fileno()).st_ino
            self._udp_drops = udp_drop_counter(self._udp_inode)
        if cfg.tcp_port is not None:
            self._tcp_server = await asyncio.start_server(
                self._handle_tcp, cfg.host, cfg.tcp_port, limit=2 ** 16
            )
            self.tcp_port = self._tcp_server.sockets[0].getsockname()[1]
        self._writer = asyncio.create_task(self._write_batches())
        self._tasks = [asyncio.create_task(self._drain_udp_waiting()),
                       asyncio.create_task(self._refresh_directory())]
        if cfg.stats_interval > 0:
            self._tasks.append(asyncio.create_task(self._report_stats()))
        if self._udp_drops is not None and cfg.drops_interval > 0:
            self._tasks.append(asyncio.create_task(self._watch_drops()))

    async def stop(self) -> None:
        """Stop receiving, let open TCP streams end, write everything queued, close."""
        self._stopping = True
        self._count_drops()
        if self._udp_transport is not None:
            self._udp_transport.close()
        if self._tcp_server is not None:
            self._tcp_server.close()
        for writer in list(self._connections):
            writer.close()  # the handler reads what was buffered, then ends its decoder
        if self._handlers:
            await asyncio.wait(self._handlers, timeout=5)
        self._udp_wakeup.set()
        drain, *periodic = self._tasks
        await drain  # waiting datagrams go into the queue (or count as overflow)
        for task in periodic:
            task.cancel()
        await asyncio.gather(*periodic, return_exceptions=True)
        await self._queue.put(None)
        if self._writer is not None:
            await self._writer
        await self._in_db(self._flush_reports)
        await self._in_db(connections.close_all)
        self._db.shutdown(wait=True)
        self.report("stopped: " + self.stats.line(self._queue.qsize()))

    async def serve(self, stop: asyncio.Event) -> None:
        await self.start()
        await stop.wait()
        await self.stop()

    # --- receiving ----------------------------------------------------------------------

    def _udp_datagram(self, data: bytes, addr: tuple[Any, ...]) -> None:
        if self._stopping:
            return
        host = str(addr[0])
        source_id = self.directory.lookup(host)
        if source_id is None:
            self.stats.unknown += 1
            self._report_later("monitoring.source.unknown", host, "udp")
            return
        payload = data.rstrip(b"\r\n\x00")
        if not payload:
            return
        self.stats.received += 1
        item = _Item(source_id, "syslog-udp", payload, self.config.clock(), host)
        if not self._udp_waiting:
            try:
                self._queue.put_nowait(item)
                self._note_depth()
                return
            except asyncio.QueueFull:
                pass
        self._udp_waiting.append((time.monotonic(), item))
        self._udp_wakeup.set()

    async def _drain_udp_waiting(self) -> None:
        """Move waiting datagrams into the queue as room appears; past the bound, count
        them as overflow (reported, never silent)."""
        while True:
            if not self._udp_waiting:
                if self._stopping:
                    return
                self._udp_wakeup.clear()
                await self._udp_wakeup.wait()
                continue
            since, item = self._udp_waiting[0]
            remaining = since + self.config.overflow_wait - time.monotonic()
            try:
                await asyncio.wait_for(self._queue.put(item), timeout=max(remaining, 0.001))
                self._udp_waiting.popleft()
                self._note_depth()
            except TimeoutError:
                now = time.monotonic()
                while self._udp_waiting and (
                    self._udp_waiting[0][0] + self.config.overflow_wait <= now
                ):
                    _, dropped = self._udp_waiting.popleft()
                    self.stats.overflow += 1
                    self._report_later("monitoring.overflow", dropped.address, "udp")

    async def _handle_tcp(self, reader: asyncio.StreamReader,
                          writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        if task is not None:
            self._handlers.add(task)
        peer = writer.get_extra_info("peername") or ("", 0)
        host = str(peer[0])
        try:
            source_id = self.directory.lookup(host)
            if source_id is None:
                self.stats.unknown += 1
                self._report_later("monitoring.source.unknown", host, "tcp")
                return
            self._connections.add(writer)
            decoder = FrameDecoder(max_frame=self.config.max_frame)
            while True:
                try:
                    chunk = await reader.read(2 ** 16)
                except (ConnectionError, OSError):
                    chunk = b""
                frames = decoder.feed(chunk) if chunk else decoder.close()
                for frame in frames:
                    if isinstance(frame, ParseError):
                        self.stats.received += 1  # received, then refused by the framing
                        self.stats.rejected += 1
                        self.stats.reasons[frame.reason] += 1
                        self._report_later("monitoring.frame.rejected", host, frame.reason)
                        # Quarantined with its reason and what was received of it (A11-10).
                        await self._queue.put(
                            _Item(source_id, "syslog-tcp", frame, self.config.clock(), host))
                        continue
                    self.stats.received += 1
                    # Back-pressure: wait for room; meanwhile the socket buffer fills and
                    # TCP slows the sender down.
                    await self._queue.put(
                        _Item(source_id, "syslog-tcp", frame, self.config.clock(), host)
                    )
                    self._note_depth()
                if not chunk:
                    break
        finally:
            self._connections.discard(writer)
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()
            if task is not None:
                self._handlers.discard(task)

    # --- writing ------------------------------------------------------------------------

    async def _write_batches(self) -> None:
        loop = asyncio.get_running_loop()
        queue = self._queue
        limit = self.config.batch_size
        while True:
            item = await queue.get()
            if item is None:
                return
            batch = [item]
            deadline = loop.time() + self.config.batch_ms / 1000
            done = False
            while len(batch) < limit:
                try:
                    nxt = queue.get_nowait()
                except asyncio.QueueEmpty:
                    remaining = deadline - loop.time()
                    if remaining <= 0:
                        break
                    try:
                        nxt = await asyncio.wait_for(queue.get(), timeout=remaining)
                    except TimeoutError:
                        break
                if nxt is None:
                    done = True
                    break
                batch.append(nxt)
            await self._in_db(self._ingest_batch, batch)
            if done:
                return

    def _ingest_batch(self, batch: list[_Item]) -> None:
        """In the database thread: the whole batch in one `ingest_received` call (one
        transaction), each event with its own source, channel and receive time."""
        close_old_connections()
        items: list[Received] = []
        gone: Counter[str] = Counter()
        for item in batch:
            source = self.directory.source(item.source_id)
            if source is None:  # the directory was reloaded without this source
                gone[item.address] += 1
                continue
            items.append((source, item.payload, item.channel, item.received_at))
        for address, count in gone.items():
            self.stats.unknown += count
            self._report_now("monitoring.source.unknown", address, "refused", count)
        if not items:
            return
        try:
            with acting_context(RequestContext(channel="system")):
                result = ingest_received(items)
        except Exception:
            senders = sorted({item.address for item in batch})
            logger.exception("ingest of %d events from %s failed", len(items),
                             ", ".join(senders))
            self.stats.failed += len(items)
            self._report_now("monitoring.ingest.failed", senders[0],
                             f"{len(senders)} sender(s)", len(items))
            return
        if result.refused:  # deactivated since the directory was loaded
            self.stats.unknown += result.refused
            self._report_now("monitoring.source.unknown", "", "inactive", result.refused)
        self.stats.accepted += result.accepted
        self.stats.quarantined += result.quarantined
        self.stats.reasons.update(result.reasons)
        self.stats.alerts += len(result.alerts)
        self.stats.ahead += result.timing["ahead"]
        self.stats.late += result.timing["late"]

    # --- reporting ----------------------------------------------------------------------

    def _note_depth(self) -> None:
        depth = self._queue.qsize()
        if depth > self.stats.peak:
            self.stats.peak = depth

    def _count_drops(self) -> None:
        """Datagrams the kernel dropped since the last read: counted and reported."""
        if self._udp_inode is None or self._udp_drops is None:
            return
        now = udp_drop_counter(self._udp_inode)
        if now is None or now <= self._udp_drops:
            return
        dropped, self._udp_drops = now - self._udp_drops, now
        self.stats.dropped += dropped
        self._report_later("monitoring.overflow", "", "receive buffer", dropped)

    async def _watch_drops(self) -> None:
        while True:
            await asyncio.sleep(self.config.drops_interval)
            self._count_drops()

    def _report_later(self, kind: str, address: str, detail: str, count: int = 1) -> None:
        """Count on the loop; the security event is written by the database thread, at
        most once a minute per kind and address (the count since the last one rides
        along)."""
        key = (kind, address)
        self._unreported[key] += count
        last = self._reported.get(key)
        now = time.monotonic()
        if last is not None and now - last < REPORT_EVERY_S:
            return
        self._reported[key] = now
        count = self._unreported.pop(key)
        if len(self._reported) > 10_000:
            self._reported.clear()
        self._db.submit(self._report_now, kind, address, detail, count)

    def _report_now(self, kind: str, address: str, detail: str, count: int) -> None:
        messages = {
            "monitoring.source.unknown": (
                f"{count} syslog message(s) or connection(s) from {address}, which no "
                "active event source claims" if address else
                f"{count} syslog message(s) from event sources deactivated meanwhile, "
                "not kept"),
            "monitoring.overflow": (
                f"{count} UDP syslog datagram(s) were dropped by the operating system before "
                "the listener could read them (receive buffer full)"
                if detail == "receive buffer" else
                f"{count} UDP syslog datagram(s) from {address} found no room in the ingest "
                "queue in time and were not kept"),
            "monitoring.frame.rejected": f"{count} TCP syslog frame(s) from {address} refused "
                                         f"by the framing ({detail})",
            "monitoring.ingest.failed": f"{count} event(s) from {address} ({detail}) "
                                        "could not be written; see the listener's log",
        }
        severity = Severity.LOW if kind == "monitoring.source.unknown" else Severity.MEDIUM
        try:
            close_old_connections()
            emit_security_event(
                kind, severity=severity, message=messages.get(kind, kind),
                source_ip=address or None,
                data={"address": address, "detail": detail, "count": count},
            )
        except Exception:
            logger.exception("could not record security event %s for %s", kind, address)

    def _flush_reports(self) -> None:
        """At shutdown: what was counted since the last event of each kind and address."""
        for (kind, address), count in list(self._unreported.items()):
            self._report_now(kind, address, "at shutdown", count)
        self._unreported.clear()

    async def _report_stats(self) -> None:
        while True:
            await asyncio.sleep(self.config.stats_interval)
            self.report(self.stats.line(self._queue.qsize()))

    async def _refresh_directory(self) -> None:
        while True:
            await asyncio.sleep(self.config.refresh_interval)
            try:
                await self._in_db(self.directory.load)
            except Exception:
                logger.exception("could not reload the event sources")

    async def _in_db(self, fn: Callable[..., Any], *args: Any) -> Any:
        return await asyncio.get_running_loop().run_in_executor(self._db, fn, *args)

    def queue_depth(self) -> int:
        return self._queue.qsize()


def udp_drop_counter(inode: int) -> int | None:
    """The kernel's count of datagrams dropped for the UDP socket ``inode`` (Linux,
    /proc/net/udp and udp6, last column); None where the system does not tell."""
    for table in ("/proc/net/udp", "/proc/net/udp6"):
        try:
            with open(table, encoding="ascii") as lines:
                next(lines, None)
                for line in lines:
                    fields = line.split()
                    if len(fields) >= 13 and fields[9] == str(inode):
                        return int(fields[12])
        except (OSError, ValueError):
            continue
    return None


class _UdpProtocol(asyncio.DatagramProtocol):
    def __init__(self, listener: SyslogListener) -> None:
        self.listener = listener

    def datagram_received(self, data: bytes, addr: tuple[Any, ...]) -> None:
        self.listener._udp_datagram(data, addr)

    def error_received(self, exc: Exception) -> None:
        logger.warning("UDP receive error: %s", exc)
