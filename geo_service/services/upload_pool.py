"""Heavy upload work (reading a file, romanising and checking its names) in worker processes, off the event loop.

The naming checks are pure Python and hold the GIL, so a thread would not free the event loop: a process does.
The pool has a bounded number of slots; when every slot is taken a new upload is told to come back (``Busy``,
503 with Retry-After) instead of queueing behind the others while its client waits. Worker processes come from
a fork server that has already imported the readers, so a job starts in milliseconds, not seconds. A job runs
in the language of the request that sent it (its messages, its rule messages), which a process does not inherit.
"""

from __future__ import annotations

import asyncio
import multiprocessing
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any, TypeVar

from geo_service import i18n
from geo_service.domain.errors import Busy, PayloadTooLarge
from geo_service.i18n import t

T = TypeVar("T")
_PRELOAD = ["geo_service.services.upload_parse", "geo_service.services.facility_import"]


class UploadPool:
    """At most ``slots`` jobs at once, each in a process of its own; more are refused, not queued."""

    def __init__(self, slots: int, retry_after_s: int = 10) -> None:
        self.slots = slots
        self.retry_after_s = retry_after_s
        self._busy = 0
        self._executor: ProcessPoolExecutor | None = None

    def _pool(self) -> ProcessPoolExecutor:
        if self._executor is None:
            context = multiprocessing.get_context("forkserver")
            context.set_forkserver_preload(_PRELOAD)
            self._executor = ProcessPoolExecutor(max_workers=self.slots, mp_context=context)
        return self._executor

    async def run(self, fn: Callable[..., T], *args: Any) -> T:
        """``fn(*args)`` in a worker process; ``Busy`` when every slot is taken."""
        if self._busy >= self.slots:
            raise Busy(
                t(
                    "the server is checking {busy} other upload(s); try again in {wait} s",
                    busy=self._busy,
                    wait=self.retry_after_s,
                ),
                retry_after=self.retry_after_s,
            )
        self._busy += 1
        try:
            # The job is told the request's language: a process does not share the request's context.
            loop = asyncio.get_running_loop()
            return await loop.run_in_executor(self._pool(), _in_language, i18n.language(), fn, *args)
        except BrokenProcessPool:
            self.close()  # a worker died (out of memory, killed): the next job gets fresh ones
            raise PayloadTooLarge(t("the file could not be processed within the server's memory")) from None
        finally:
            self._busy -= 1

    def close(self) -> None:
        """Stop the worker processes (running jobs are cancelled)."""
        if self._executor is not None:
            self._executor.shutdown(wait=False, cancel_futures=True)
            self._executor = None


def _in_language(lang: str, fn: Callable[..., T], *args: Any) -> T:
    """``fn(*args)`` with its messages in ``lang`` (run in a worker process)."""
    with i18n.use(lang):
        return fn(*args)
