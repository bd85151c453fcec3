"""Process-level CPU settings, applied before heavy work starts, and the name of the machine a run trains on.

`ALLOCATOR_ENV` is the glibc allocator setting that an early measurement (docs/paper.md) found 1.24-1.40x
faster: raised mmap and trim thresholds keep freed memory instead of page-faulting it back each step. It is not
applied by default: `bench benchmark train` measures it, and its gain did not reproduce (README, Benchmarks).
A user may still set it in the environment before starting `python -m bench`.
"""

import os
import platform

ALLOCATOR_ENV = {"MALLOC_MMAP_THRESHOLD_": "1073741824", "MALLOC_TRIM_THRESHOLD_": "1073741824"}


def configure_threads():
    """Use $BENCH_THREADS torch threads when set (the runner's single-threaded workers set it to 1)."""
    threads = os.environ.get("BENCH_THREADS")
    if threads:
        import torch  # here, not at the top: the CLI imports this module before it parses, and --help needs no torch
        torch.set_num_threads(int(threads))


def machine(device) -> str:
    """The hardware a run trained on: the GPU's name, or the CPU's model and torch's own kernel level. The same
    seed and code can give other numbers on another machine (README, Determinism). It does not capture every
    library's kernel choice (oneDNN's and MKL's are not recorded), and two hosts may share a name."""
    import torch

    if str(device).startswith("cuda"):
        return torch.cuda.get_device_name(torch.device(device))
    return f"{_cpu_model()} ({torch.backends.cpu.get_cpu_capability()})"


def _cpu_model() -> str:
    # /proc/cpuinfo names x86 models; elsewhere (ARM, macOS) only the architecture is known.
    try:
        with open("/proc/cpuinfo") as f:
            names = [line.split(":", 1)[1].strip() for line in f if line.startswith("model name")]
    except OSError:
        names = []
    return names[0] if names else (platform.processor() or platform.machine() or "unknown CPU")
