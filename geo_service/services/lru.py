"""A small least-recently-used map: the per-process answer caches (keys carry the data versions they hold for)."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Awaitable, Callable
from typing import Generic, TypeVar

from geo_service.services.single_flight import SingleFlight

K = TypeVar("K")
V = TypeVar("V")


class LRU(Generic[K, V]):
    """At most ``size`` entries; the least recently used goes first."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.items: OrderedDict[K, V] = OrderedDict()
        self.flights: SingleFlight[K, V] = SingleFlight()

    def get(self, key: K) -> V | None:
        if key in self.items:
            self.items.move_to_end(key)
            return self.items[key]
        return None

    def put(self, key: K, value: V) -> None:
        self.items[key] = value
        self.items.move_to_end(key)
        while len(self.items) > self.size:
            self.items.popitem(last=False)

    async def get_or_compute(self, key: K, compute: Callable[[], Awaitable[V]]) -> V:
        """The kept value of ``key``, else ``compute()``'s, kept: computed once however many ask for it at once."""
        found = self.get(key)
        if found is not None:
            return found

        async def compute_and_keep() -> V:
            value = await compute()
            self.put(key, value)
            return value

        return await self.flights.run(key, compute_and_keep)
