"""The machine a run measured on: cores, memory, load average while measuring, memory of processes."""

from __future__ import annotations

import contextlib
import os
import platform
import statistics
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import psutil


@dataclass(frozen=True, slots=True)
class MachineInfo:
    """Cores, CPU model, memory and the thread setting that shapes the embedder's speed."""

    nproc: int
    cpu_model: str
    ram_gb: float
    python: str
    platform: str
    omp_num_threads: str


def cpu_model() -> str:
    """The CPU's model name (psutil does not report it: read from /proc/cpuinfo on Linux)."""
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown"


def machine_info() -> MachineInfo:
    """What this run measures on."""
    return MachineInfo(
        nproc=psutil.cpu_count() or 0,
        cpu_model=cpu_model(),
        ram_gb=round(psutil.virtual_memory().total / 1024**3, 1),
        python=platform.python_version(),
        platform=platform.platform(),
        omp_num_threads=os.environ.get("OMP_NUM_THREADS", "(unset)"),
    )


def loadavg() -> tuple[float, float, float]:
    """The 1, 5 and 15 minute load averages."""
    one, five, fifteen = psutil.getloadavg()
    return round(one, 2), round(five, 2), round(fifteen, 2)


@dataclass(frozen=True, slots=True)
class LoadWindow:
    """Mean and max of the 1-minute load average over a stretch of the run."""

    mean: float
    max: float


class LoadMonitor:
    """Samples the 1-minute load average every few seconds in a background thread."""

    def __init__(self, every: float = 2.0) -> None:
        self.samples: list[tuple[float, float]] = []
        self._every = every
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="loadavg", daemon=True)

    def __enter__(self) -> LoadMonitor:
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def _run(self) -> None:
        while True:
            self.samples.append((time.monotonic(), loadavg()[0]))
            if self._stop.wait(self._every):
                return

    def window(self, start: float, end: float) -> LoadWindow:
        """The load between two `time.monotonic()` stamps."""
        values = [v for t, v in self.samples if start <= t <= end] or [loadavg()[0]]
        return LoadWindow(round(statistics.fmean(values), 2), round(max(values), 2))


@dataclass(frozen=True, slots=True)
class ProcessMemory:
    """Resident memory of a process and all its descendants (MiB)."""

    total_mb: float
    processes: int
    largest_mb: float


def process_memory(pid: int) -> ProcessMemory:
    """RSS of `pid` and its descendants (processes that exit meanwhile count as 0)."""
    try:
        root = psutil.Process(pid)
        tree = [root, *root.children(recursive=True)]
    except psutil.NoSuchProcess:
        return ProcessMemory(0.0, 0, 0.0)
    sizes = []
    for process in tree:
        try:
            sizes.append(process.memory_info().rss / 1024**2)
        except psutil.NoSuchProcess:
            sizes.append(0.0)
    return ProcessMemory(round(sum(sizes), 1), len(sizes), round(max(sizes), 1))
