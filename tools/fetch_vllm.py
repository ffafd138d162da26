#!/usr/bin/env python3
"""Fetch and cache the vLLM release scaffold is tested against (DESIGN.md §9).

Two things land in a cache folder outside this repository
(default ``~/.cache/scaffold/vllm-0.33.0``; ``$SCAFFOLD_VLLM_CACHE`` or
``--cache`` name another parent folder):

- ``source/``: the release's whole repository (``vllm/``, ``docs/``, ``tests/``,
  ``tools/``), unpacked from its sdist on the package index. Nothing is built.
- ``site/``: the release's wheel installed with ``--no-deps`` plus the pure-Python
  import requirements in ``REQUIREMENTS``. With ``PYTHONPATH=<site>`` and this
  environment's CPU torch, ``import vllm``, ``_ModelInfo.from_model_cls`` and
  ``vllm.plugins.load_general_plugins()`` work. Serving does not (GPU build).

Each part is built in a temporary folder, renamed into place and then marked
complete, under a lock; a second run is instant and a half-finished run is
cleaned up and redone. Stdlib only: usable before anything else is installed.

    python tools/fetch_vllm.py               # fetch both, print the paths
    python tools/fetch_vllm.py --print-paths # JSON paths and state, no fetching
"""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import hashlib
import importlib.metadata
import json
import os
import shutil
import subprocess
import sys
import tarfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

VERSION = "0.33.0"
INDEX_URL = "https://pypi.org/simple"
SDIST = f"vllm-{VERSION}.tar.gz"
SDIST_SHA256 = "f4c33c2503d52bb411146afa9618a4f48bed68912f617e6803ac8d76e4c74112"

# What `import vllm`, the model registry, `_ModelInfo.from_model_cls` on model
# files and `load_general_plugins()` need beyond the environment, found by
# importing until nothing was missing. Installed with --no-deps, so transitive
# needs are listed too; the versions satisfy the wheel's Requires-Dist. Left out:
# torch/torchvision/torchaudio (the environment's CPU torch is used; the index
# has no CPU torchvision, so the ~95 multimodal model files that import
# transformers' image processors cannot be inspected) and CUDA-only kernels.
REQUIREMENTS = """
    aiohttp==3.14.5 aiohappyeyeballs==2.7.1 aiosignal==1.4.0 frozenlist==1.8.0
    multidict==7.2.1 propcache==0.5.4 yarl==1.25.1
    cachetools==8.0.2 cbor2==6.3.0 einops==0.8.2 msgspec==0.22.0 psutil==7.2.2
    fastapi==0.136.3 starlette==1.10.0 openai==3.57.0 oss-harmony==0.0.11
    llguidance==1.7.6 xgrammar==0.2.8 apache-tvm-ffi==0.1.11
    partial-json-parser==0.2.1.1.post7 pillow==13.0.0 prometheus-client==0.26.0
    pybase64==1.5.1 pyzmq==27.3.0 uvloop==0.23.0
    compressed-tensors==0.17.0 loguru==0.7.3 tiktoken==0.14.0
    mistral-common==1.13.1 pydantic-extra-types==2.11.1 pycountry==26.2.16
""".split()
# Needed as well, but installed only where the environment lacks them (a bare
# `pip install -e '.[dev]'` has none; a fuller one would be shadowed by a second
# copy). The environment always brings torch, transformers, numpy, pydantic,
# huggingface_hub, tokenizers, safetensors, regex, pyyaml, tqdm, filelock.
IF_MISSING = """
    attrs==26.1.0 certifi==2026.10.19.post1 cloudpickle==3.1.3 py-cpuinfo==9.0.0
    jsonschema==4.26.0 jsonschema-specifications==2025.9.1 referencing==0.37.0
    rpds-py==2026.9.1 requests==2.34.2 urllib3==2.8.0 sniffio==1.3.1
""".split()


def requirements() -> list[str]:
    """``REQUIREMENTS`` plus those of ``IF_MISSING`` this environment lacks."""
    missing = []
    for spec in IF_MISSING:
        try:
            importlib.metadata.version(spec.split("==")[0])
        except importlib.metadata.PackageNotFoundError:
            missing.append(spec)
    return [*REQUIREMENTS, *missing]


class FetchError(RuntimeError):
    """The fetch failed for a reason other than an unreachable index."""


class IndexUnreachable(FetchError):
    """The package index cannot be reached (offline machine, proxy, ...)."""


def log(message: str) -> None:
    """Print one progress line on stderr (stdout is kept for the paths)."""
    print(f"fetch_vllm: {message}", file=sys.stderr, flush=True)


def cache_dir(override: str | os.PathLike[str] | None = None) -> Path:
    """The versioned cache folder: ``<parent>/vllm-<VERSION>``.

    The parent is ``override``, else ``$SCAFFOLD_VLLM_CACHE``, else
    ``$XDG_CACHE_HOME/scaffold`` (``~/.cache/scaffold``).
    """
    parent = override or os.environ.get("SCAFFOLD_VLLM_CACHE")
    if not parent:
        xdg = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
        parent = Path(xdg) / "scaffold"
    return Path(parent).expanduser().resolve() / f"vllm-{VERSION}"


def paths(cache: Path) -> dict[str, str | bool]:
    """Where the parts are and whether each is complete; fetches nothing."""
    return {
        "version": VERSION,
        "cache": str(cache),
        "source": str(cache / "source"),
        "site": str(cache / "site"),
        "source_ready": _marker_ok(cache / "source", _source_stamp()),
        "site_ready": _marker_ok(cache / "site", _site_stamp()),
    }


def _source_stamp() -> dict[str, object]:
    return {"sdist": SDIST, "sha256": SDIST_SHA256}


def _site_stamp() -> dict[str, object]:
    python = f"{sys.implementation.cache_tag}-{sys.platform}"
    return {"vllm": VERSION, "requirements": sorted(requirements()), "python": python}


def _marker(target: Path) -> Path:
    return target.parent / f".{target.name}.complete"


def _marker_ok(target: Path, stamp: dict[str, object]) -> bool:
    try:
        return json.loads(_marker(target).read_text()) == stamp and target.is_dir()
    except (OSError, ValueError):
        return False


@contextlib.contextmanager
def _locked(cache: Path) -> Iterator[None]:
    """Serialise fetches of one cache between processes (pytest workers)."""
    cache.mkdir(parents=True, exist_ok=True)
    with open(cache / ".lock", "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _build(
    target: Path, stamp: dict[str, object], make: Callable[[Path], None]
) -> Path:
    """Build ``target`` via ``make(tmp)`` unless it is complete.

    The new folder is built aside and swapped in by renames, so a reader of an
    outdated ``target`` (another test session) loses it only for an instant.
    """
    cache = target.parent
    with _locked(cache):
        if _marker_ok(target, stamp):
            return target
        for stale in cache.glob(f"{target.name}.*-[0-9]*"):
            log(f"removing leftover {stale}")
            shutil.rmtree(stale, ignore_errors=True)
        tmp = cache / f"{target.name}.tmp-{os.getpid()}"
        tmp.mkdir()
        try:
            make(tmp)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise
        log(f"{target.name}: {_size_mb(tmp):.0f} MB")
        _marker(target).unlink(missing_ok=True)
        old = cache / f"{target.name}.old-{os.getpid()}"
        if target.exists():
            log(f"replacing incomplete or outdated {target}")
            target.rename(old)
        tmp.rename(target)
        _marker(target).write_text(json.dumps(stamp))
        shutil.rmtree(old, ignore_errors=True)
        return target


def _open(url: str, accept: str | None = None, timeout: float = 30) -> Any:
    """``urlopen`` whose network failures raise ``IndexUnreachable``."""
    request = urllib.request.Request(url, headers={"Accept": accept} if accept else {})
    try:
        return urllib.request.urlopen(request, timeout=timeout)
    except urllib.error.HTTPError as error:
        raise FetchError(f"{url}: HTTP {error.code}") from error
    except (urllib.error.URLError, OSError) as error:
        raise IndexUnreachable(f"cannot reach {url}: {error}") from error


def check_index(index_url: str = INDEX_URL) -> None:
    """Raise ``IndexUnreachable`` unless the index answers for vllm."""
    with _open(f"{index_url}/vllm/", timeout=15):
        pass


def sdist_url(index_url: str = INDEX_URL) -> str:
    """The sdist's download address, from the index's JSON simple API (PEP 691)."""
    accept = "application/vnd.pypi.simple.v1+json"
    with _open(f"{index_url}/vllm/", accept=accept) as response:
        files = json.load(response)["files"]
    for entry in files:
        if entry["filename"] == SDIST:
            return str(entry["url"])
    raise FetchError(f"{SDIST} is not on {index_url}")


def _download(url: str, dest: Path, sha256: str) -> None:
    digest = hashlib.sha256()
    with _open(url, timeout=120) as response, open(dest, "wb") as out:
        while chunk := response.read(1 << 20):
            digest.update(chunk)
            out.write(chunk)
    if digest.hexdigest() != sha256:
        raise FetchError(f"{dest.name}: sha256 {digest.hexdigest()} != {sha256}")


def ensure_source(cache: Path, index_url: str = INDEX_URL) -> Path:
    """The unpacked release tree (``source/vllm``, ``source/docs``, ...)."""

    def make(tmp: Path) -> None:
        check_index(index_url)
        start = time.monotonic()
        archive = tmp / SDIST
        url = sdist_url(index_url)
        log(f"downloading {url}")
        _download(url, archive, SDIST_SHA256)
        log(f"unpacking {archive.stat().st_size / 1e6:.0f} MB into {cache / 'source'}")
        unpacked = tmp / "unpacked"
        with tarfile.open(archive) as tar:
            if hasattr(tarfile, "data_filter"):
                tar.extractall(unpacked, filter="data")
            else:  # pragma: no cover - Python < 3.10.12
                tar.extractall(unpacked)  # noqa: S202
        top = unpacked / f"vllm-{VERSION}"
        for entry in top.iterdir():
            entry.rename(tmp / entry.name)
        shutil.rmtree(unpacked)
        archive.unlink()
        log(f"source tree ready ({time.monotonic() - start:.0f} s)")

    return _build(cache / "source", _source_stamp(), make)


def ensure_site(cache: Path, index_url: str = INDEX_URL) -> Path:
    """The importable package folder: put it on ``PYTHONPATH``."""
    if sys.version_info < (3, 11):
        raise FetchError(f"vllm {VERSION} needs Python >= 3.11")

    def make(tmp: Path) -> None:
        check_index(index_url)
        start = time.monotonic()
        command = [
            *(sys.executable, "-m", "pip", "install", "--no-deps", "--no-compile"),
            *("--only-binary", ":all:", "--target", str(tmp), "--index-url"),
            *(index_url, f"vllm=={VERSION}", *requirements()),
        ]
        log("installing the wheel and its CPU import requirements (--no-deps)")
        log(" ".join(command))
        done = subprocess.run(command, stdout=sys.stderr, check=False)
        if done.returncode:
            raise FetchError(f"pip install failed (exit {done.returncode})")
        log(f"site ready ({time.monotonic() - start:.0f} s)")

    return _build(cache / "site", _site_stamp(), make)


def ensure_all(cache: Path, index_url: str = INDEX_URL) -> tuple[Path, Path]:
    """Both parts: ``(source, site)``."""
    return ensure_source(cache, index_url), ensure_site(cache, index_url)


def _size_mb(folder: Path) -> float:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file()) / 1e6


def main(argv: Sequence[str] | None = None) -> int:
    """Fetch what is missing and print the paths; exit 2 on failure."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cache", help="parent folder (default ~/.cache/scaffold)")
    parser.add_argument("--index-url", default=INDEX_URL, help="PEP 503/691 index")
    part = parser.add_mutually_exclusive_group()
    part.add_argument("--source-only", action="store_true", help="only the tree")
    part.add_argument("--site-only", action="store_true", help="only the package")
    parser.add_argument("--force", action="store_true", help="fetch again")
    parser.add_argument(
        "--print-paths", action="store_true", help="print JSON paths, fetch nothing"
    )
    args = parser.parse_args(argv)
    cache = cache_dir(args.cache)
    index = args.index_url.rstrip("/")
    if args.print_paths:
        print(json.dumps(paths(cache), indent=2))
        return 0
    if args.force:
        for name in ("source", "site"):
            _marker(cache / name).unlink(missing_ok=True)
    start = time.monotonic()
    try:
        if not args.site_only:
            ensure_source(cache, index)
        if not args.source_only:
            ensure_site(cache, index)
    except FetchError as error:
        print(f"fetch_vllm: error: {error}", file=sys.stderr)
        return 2
    state = paths(cache)
    for name in ("source", "site"):
        if state[f"{name}_ready"]:
            print(f"{name}: {state[name]}")
    log(f"done in {time.monotonic() - start:.1f} s")
    if state["site_ready"]:
        print(f"try: PYTHONPATH={state['site']} python -c 'import vllm'")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
