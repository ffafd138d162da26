"""glibc's heap keeps what a step frees (``vllm_stub/worker/heap.py``).

Each check runs in a fresh interpreter, whose malloc still has glibc's
defaults, and counts the page faults of a step-like pattern: eight 16 MB
blocks written and freed, three times over. glibc's defaults hand them back
to the kernel each time (by munmap, or by trimming the heap), so each round
faults on every page again; kept, the rounds after the first fault on none.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

BLOCK, BLOCKS = 16 << 20, 8
ROUND_PAGES = BLOCK * BLOCKS // 4096

STEPS = textwrap.dedent(
    f"""
    import ctypes, resource
    libc = ctypes.CDLL("libc.so.6")
    libc.malloc.restype = ctypes.c_void_p
    libc.free.argtypes = [ctypes.c_void_p]
    faults = []
    for _ in range(3):
        before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
        blocks = [libc.malloc({BLOCK}) for _ in range({BLOCKS})]
        for block in blocks:
            ctypes.memset(block, 1, {BLOCK})
        for block in blocks:
            libc.free(block)
        faults.append(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
    print(max(faults[1:]))
    """
)

pytestmark = pytest.mark.skipif(
    not sys.platform.startswith("linux"), reason="glibc's malloc"
)


def _faults_after(setup: str) -> tuple[str, int]:
    """What ``setup`` prints, and the most faults of a round after the first."""
    command = [sys.executable, "-c", setup + STEPS]
    result = subprocess.run(command, capture_output=True, text=True, check=True)
    *printed, faults = result.stdout.split()
    return " ".join(printed), int(faults)


KEEP = "from vllm_stub.worker import heap\nprint(heap.keep_freed_memory())\n"


def test_glibc_defaults_fault_on_every_round() -> None:
    assert _faults_after("")[1] > ROUND_PAGES // 2


def test_kept_memory_faults_once() -> None:
    printed, faults = _faults_after(KEEP)
    assert printed == "True" and faults < ROUND_PAGES // 100


def test_the_environments_own_malloc_tunables_are_left_alone(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("MALLOC_TRIM_THRESHOLD_", "131072")
    printed, faults = _faults_after(KEEP)
    assert printed == "False" and faults > ROUND_PAGES // 2


@pytest.mark.slow
def test_an_engine_keeps_its_steps_memory(make_checkpoint) -> None:
    folder: Path = make_checkpoint()[0]
    engine = f"from vllm_stub import LLM\nLLM({str(folder)!r}, enforce_eager=True)\n"
    assert _faults_after(engine)[1] < ROUND_PAGES // 100


def test_released_memory_goes_back_to_the_kernel() -> None:
    # blocks kept by the heap, freed, then released: resident memory falls
    # back by (nearly) all of them, where kept it stays
    script = KEEP + textwrap.dedent(
        f"""
        import ctypes
        libc = ctypes.CDLL("libc.so.6")
        libc.malloc.restype = ctypes.c_void_p
        libc.free.argtypes = [ctypes.c_void_p]
        def resident():
            return int(open("/proc/self/statm").read().split()[1]) * 4096
        blocks = [libc.malloc({BLOCK}) for _ in range({BLOCKS})]
        for block in blocks:
            ctypes.memset(block, 1, {BLOCK})
        for block in reversed(blocks[1:]):  # the first keeps the heap's start
            libc.free(block)
        kept = resident()
        print(heap.release_freed_memory(), kept - resident())
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    )
    printed, released, freed = result.stdout.split()
    assert (printed, released) == ("True", "True")
    assert int(freed) > BLOCK * (BLOCKS - 1) * 9 // 10
