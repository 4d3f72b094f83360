"""A loopback TCP proxy whose link a lab test can cut and restore, standing in for the WAN between an
edge and its hub. Transport-agnostic: it forwards bytes, so TLS passes through untouched."""

from __future__ import annotations

import asyncio
import threading
from typing import Any, Coroutine, Optional, TypeVar

CHUNK = 64 * 1024

T = TypeVar("T")


class TcpProxy:
    """Forwards a free loopback port to `target` (host:port) from its own event-loop thread.

    `cut()` resets every open connection and every new one until `restore()`: the client sees
    connection resets, as when a link drops, and retries on its own schedule.

    `blackhole()` is the partition that drops packets instead: connections stay open and new ones
    are accepted, but no byte moves either way until `restore()`, so the client only learns of it
    from its own timeouts. What was sent meanwhile waits in the socket buffers and flows on
    `restore()`, as TCP retransmits it once a healed link carries packets again.
    """

    def __init__(self, target: str):
        host, port = target.rsplit(":", 1)
        self._target = (host, int(port))
        self._cut = False
        self._open: set[asyncio.StreamWriter] = set()
        self._loop = asyncio.new_event_loop()
        self._flowing: Optional[asyncio.Event] = None
        self._thread = threading.Thread(target=self._loop.run_forever, name=f"proxy-{target}", daemon=True)
        self._thread.start()
        self._flowing = self._run(self._new_event())
        self._server: Optional[asyncio.Server] = self._run(asyncio.start_server(self._accept, "127.0.0.1", 0))
        self.address = f"127.0.0.1:{self._server.sockets[0].getsockname()[1]}"

    @staticmethod
    async def _new_event() -> asyncio.Event:
        event = asyncio.Event()  # bound to the proxy's loop
        event.set()
        return event

    def _run(self, coroutine: Coroutine[Any, Any, T]) -> T:
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop).result(timeout=10)

    async def _accept(self, client_reader: asyncio.StreamReader, client_writer: asyncio.StreamWriter) -> None:
        if self._cut:
            client_writer.transport.abort()
            return
        await self._wait_flowing()
        try:
            upstream_reader, upstream_writer = await asyncio.open_connection(*self._target)
        except OSError:
            client_writer.transport.abort()
            return
        pair = {client_writer, upstream_writer}
        self._open |= pair
        try:
            await asyncio.gather(self._pipe(client_reader, upstream_writer), self._pipe(upstream_reader, client_writer))
        finally:
            self._open -= pair
            for writer in pair:
                writer.transport.abort()

    async def _wait_flowing(self) -> None:
        assert self._flowing is not None
        await self._flowing.wait()

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                await self._wait_flowing()  # a blackhole reads nothing: the bytes wait in the socket
                data = await reader.read(CHUNK)
                if not data:
                    break
                await self._wait_flowing()  # read just before the blackhole: held until it ends
                writer.write(data)
                await writer.drain()
            if writer.can_write_eof():
                writer.write_eof()
        except (ConnectionError, OSError):
            writer.transport.abort()

    async def _set(self, cut: bool, flowing: bool) -> None:
        assert self._flowing is not None
        self._cut = cut
        if cut:
            for writer in list(self._open):
                writer.transport.abort()
        if flowing:
            self._flowing.set()
        else:
            self._flowing.clear()

    def cut(self) -> None:
        self._run(self._set(cut=True, flowing=True))

    def blackhole(self) -> None:
        self._run(self._set(cut=False, flowing=False))

    def restore(self) -> None:
        self._run(self._set(cut=False, flowing=True))

    def close(self) -> None:
        if self._server is None:
            return
        self.cut()
        self._server.close()
        self._run(self._server.wait_closed())
        self._server = None
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=5)
        self._loop.close()

    def __enter__(self) -> "TcpProxy":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
