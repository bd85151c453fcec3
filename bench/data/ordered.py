"""Ordered parallel map with bounded look-ahead, for the renderers, whose chunks are written in order."""

import os
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor


def ordered_map(fn: Callable, items: Iterable, workers: int | None = None, ahead: int = 2) -> Iterator:
    """Yield fn(item) in order, computing up to `workers * ahead` items at once in threads.

    Threads suffice because the work is large NumPy operations, which release the GIL.
    """
    workers = workers or os.cpu_count() or 1
    with ThreadPoolExecutor(workers) as pool:
        pending = deque()
        for item in items:
            pending.append(pool.submit(fn, item))
            if len(pending) >= workers * ahead:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()
