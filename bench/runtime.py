"""Process-level CPU settings, applied before heavy work starts.

glibc's default allocator returns freed memory to the OS after every step, and the next step page-faults it
back in: an early measurement (docs/paper.md) found ~20% of the time there. Raising the mmap and trim
thresholds keeps the memory, which made training 1.24-1.40x faster there. These must be in the environment
before the process starts, so the CLI re-executes itself once with them set.
"""

import os
import sys

ALLOCATOR_ENV = {"MALLOC_MMAP_THRESHOLD_": "1073741824", "MALLOC_TRIM_THRESHOLD_": "1073741824"}


def reexec_with_allocator_settings():
    """Restart this Python process with the allocator settings, unless they are already in place."""
    if all(os.environ.get(k) == v for k, v in ALLOCATOR_ENV.items()) or os.environ.get("BENCH_NO_REEXEC"):
        return
    os.environ.update(ALLOCATOR_ENV)
    os.execv(sys.executable, [sys.executable, "-m", "bench", *sys.argv[1:]])


def configure_threads():
    """Use $BENCH_THREADS torch threads when set (the runner's single-threaded workers set it to 1)."""
    threads = os.environ.get("BENCH_THREADS")
    if threads:
        import torch  # here, not at the top: the CLI imports this module before it re-executes itself
        torch.set_num_threads(int(threads))
