"""An event loop in a background thread, driven from the prompt in the main thread.

The prompt blocks on ``input()`` in the main thread, where Ctrl-C lands as ``KeyboardInterrupt``
whatever it interrupts; the agent's asynchronous work (HTTP streams, or the in-process runtime
and the turns it runs in the background) lives on one loop in another thread, so it keeps going
while the person types, and a turn nobody waits for any more still finishes.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import queue
import threading
from collections.abc import AsyncIterator, Coroutine, Generator
from typing import Any, TypeVar

T = TypeVar("T")
POLL_SECONDS = 0.2  # how often a waiting main thread wakes up (so Ctrl-C is never delayed)
CLOSE_SECONDS = 5.0  # the longest wait for a stream to close after Ctrl-C
_END = object()


class Bridge:
    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(
            target=self.loop.run_forever, name="aiops-chat-loop", daemon=True
        )
        self._thread.start()

    def call(self, work: Coroutine[Any, Any, T]) -> T:
        """Run ``work`` on the loop and wait for it; Ctrl-C cancels it and propagates."""
        future = asyncio.run_coroutine_threadsafe(work, self.loop)
        try:
            while not future.done():
                concurrent.futures.wait([future], timeout=POLL_SECONDS)
            return future.result()
        finally:
            future.cancel()

    def stream(self, items: AsyncIterator[T]) -> Generator[T, None, None]:
        """Iterate ``items`` (produced on the loop) here, as they come.

        Leaving the iteration early (an exception, Ctrl-C, ``break``) cancels the producer: an
        HTTP stream is closed, an in-process follower stops; the turn itself is not touched.
        """
        received: queue.Queue[Any] = queue.Queue()
        finished = threading.Event()

        async def pump() -> None:
            try:
                async for item in items:
                    received.put(item)
            except Exception as error:
                received.put(error)
            finally:
                received.put(_END)
                finished.set()

        future = asyncio.run_coroutine_threadsafe(pump(), self.loop)
        try:
            while True:
                try:
                    item = received.get(timeout=POLL_SECONDS)
                except queue.Empty:
                    continue
                if item is _END:
                    return
                if isinstance(item, Exception):
                    raise item
                yield item
        finally:
            future.cancel()
            finished.wait(timeout=CLOSE_SECONDS)  # the stream is closed before the prompt

    def close(self) -> None:
        """Stop the loop (after the caller closed what runs on it)."""
        if not self.loop.is_running():
            return
        self.call(self.loop.shutdown_asyncgens())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(timeout=10)
        self.loop.close()
