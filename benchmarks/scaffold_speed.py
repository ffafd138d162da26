"""How fast are ``scaffold new-model`` and ``scaffold check`` next to libcst itself?

Every number is the wall time of a fresh process (what a contributor and the
pre-commit hook pay), the median of ``--repeat`` runs. Each command is divided
by a *floor* measured in the same run on the same tree: a fresh ``python``
that imports libcst and does the parsing the command cannot avoid. Machines
are noisy, so only the ratios are meant to be compared across machines.

    python benchmarks/scaffold_speed.py [--repeat 5] [--sizes 300,3000] [--budget 20]
"""

from __future__ import annotations

import argparse
import math
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _tree_gen import Arch, write_tree  # noqa: E402

NEW_ARCH = "ZzzNewForCausalLM"
TARGET = 1.5  # the issues' budget: a command may cost 1.5x its floor
# Floor of new-model: parse and regenerate the two Python files it edits with
# libcst, and read the docs page (a markdown edit needs no parser).
FLOOR_NEW_MODEL = """
import sys
from pathlib import Path
import libcst as cst
registry, examples, docs = map(Path, sys.argv[1:4])
for path in (registry, examples):
    cst.parse_module(path.read_text(encoding="utf-8")).code
docs.read_text(encoding="utf-8")
"""
# Floor of check: the same, plus every model module, which check reads with
# ``ast`` (it only needs class names), so the floor does too.
FLOOR_CHECK = (
    FLOOR_NEW_MODEL
    + """
import ast
for path in sorted(registry.parent.glob("*.py")):
    if path.name not in ("registry.py", "__init__.py"):
        ast.parse(path.read_text(encoding="utf-8"))
"""
)


class CommandFailed(Exception):
    """A timed command exited non-zero; its row is reported, not timed."""


@dataclass
class Row:
    """One command on one tree size (``seconds`` is NaN when it failed)."""

    command: str
    size: int
    seconds: float
    floor: float
    runs: int = 0
    error: str = ""

    @property
    def ratio(self) -> float:
        """Command time over its floor."""
        return self.seconds / self.floor


def timed(args: Sequence[str], restore: dict[Path, bytes] | None = None) -> float:
    """Wall time of one fresh process; fail loudly if it does not exit 0.

    ``check`` exits 1 on a tree with findings (a real release has some): that
    counts as a run too.
    """
    start = time.perf_counter()
    done = subprocess.run(args, capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    if done.returncode not in ((0, 1) if "check" in args else (0,)):
        last = (done.stderr.strip().splitlines() or ["no output"])[-1]
        raise CommandFailed(f"exit {done.returncode}: {last}")
    if restore is not None:
        # Undo a real new-model so every repetition edits the same tree.
        for path, data in restore.items():
            path.write_bytes(data)
    return elapsed


@dataclass(frozen=True)
class Runs:
    """How many times to run each case: ``repeat``, or fewer past ``budget_s``."""

    repeat: int
    budget_s: float

    def median(
        self, args: Sequence[str], restore: dict[Path, bytes] | None = None
    ) -> tuple[float, int]:
        """Median wall time of up to ``repeat`` runs, and how many ran.

        At least three runs (a median of fewer is just noise), then stop once the
        case has used ``budget_s``, so a slow tree cannot stretch the whole run
        past a few minutes. The tree's consistency check before the cases warms
        the file cache and ``.pyc`` files, so no run is discarded.
        """
        runs: list[float] = []
        while len(runs) < self.repeat:
            runs.append(timed(args, restore))
            if len(runs) >= 3 and sum(runs) > self.budget_s:
                break
        return statistics.median(runs), len(runs)


def tree_files(root: Path) -> tuple[Path, Path, Path]:
    """Registry, examples and docs paths of a generated tree."""
    return (
        root / "vllm" / "model_executor" / "models" / "registry.py",
        root / "tests" / "models" / "registry.py",
        root / "docs" / "models" / "supported_models.md",
    )


def bench_size(root: Path, archs: list[Arch], runs: Runs) -> list[Row]:
    """Every command and both floors on one generated tree."""
    target = next(a for a in archs if a.kind == "text-generation")
    return bench_tree(root, f"{target.module}:{target.name}", len(archs), runs)


def bench_tree(root: Path, alias_of: str, size: int, runs: Runs) -> list[Row]:
    """Every command and both floors on the tree at ``root`` (``size`` entries)."""
    py = sys.executable
    files = [str(path) for path in tree_files(root)]
    alias = ["--alias-of", alias_of]
    new = [py, "-m", "scaffold", "new-model", NEW_ARCH, "--root", str(root)]
    restore = {path: path.read_bytes() for path in tree_files(root)}
    floor_new, n_new = runs.median([py, "-c", FLOOR_NEW_MODEL, *files])
    floor_check, n_check = runs.median([py, "-c", FLOOR_CHECK, *files])
    check = [py, "-m", "scaffold", "check", "--root", str(root)]
    cases: list[tuple[str, list[str], dict[Path, bytes] | None, float]] = [
        (
            "new-model --alias-of --dry-run",
            [*new, *alias, "--dry-run"],
            None,
            floor_new,
        ),
        ("new-model --alias-of", [*new, *alias], restore, floor_new),
        ("new-model (template) --dry-run", [*new, "--dry-run"], None, floor_new),
        ("check", check, None, floor_check),
    ]
    rows = [Row("floor: libcst 2 files", size, floor_new, floor_new, n_new)]
    rows.append(
        Row("floor: + ast model files", size, floor_check, floor_check, n_check)
    )
    for name, args, undo, floor in cases:
        try:
            seconds, count = runs.median(args, undo)
            rows.append(Row(name, size, seconds, floor, count))
        except CommandFailed as failed:
            # Report the row (e.g. templates not shipped yet), keep measuring.
            rows.append(Row(name, size, math.nan, floor, error=str(failed)))
        last = rows[-1]
        print(f"  {name:<32} {last.seconds:7.3f}s x{last.runs}", file=sys.stderr)
    if any(restore[path] != path.read_bytes() for path in restore):
        raise SystemExit("a dry run changed the tree")
    return rows


def imports_of(args: Sequence[str]) -> tuple[set[str], int]:
    """Top-level packages a process imported (``-X importtime``), and its exit code.

    Imports happen before a failure can, so the list is meaningful either way.
    """
    done = subprocess.run(args, capture_output=True, text=True)
    names = set()
    for line in done.stderr.splitlines():
        if line.startswith("import time:") and "|" in line:
            names.add(line.rsplit("|", 1)[1].strip().split(".")[0])
    return names, done.returncode


def check_heavy_imports(root: Path, archs: list[Arch]) -> bool:
    """True when no dry run of new-model imports torch or transformers."""
    target = next(a for a in archs if a.kind == "text-generation")
    base = [sys.executable, "-X", "importtime", "-m", "scaffold", "new-model"]
    base += [NEW_ARCH, "--root", str(root), "--dry-run"]
    clean = True
    for label, extra in (
        ("--alias-of", ["--alias-of", f"{target.module}:{target.name}"]),
        ("(template)", []),
    ):
        names, code = imports_of([*base, *extra])
        heavy = sorted(names & {"torch", "transformers"})
        clean = clean and not heavy
        verdict = "imports " + ", ".join(heavy) if heavy else "no torch/transformers"
        print(
            f"new-model {label} --dry-run: {verdict} "
            f"({len(names)} top-level packages imported, exit {code})"
        )
    return clean


def growth(rows: list[Row], command: str, sizes: list[int]) -> str:
    """Largest size's time over the smallest's, for one command."""
    times = {row.size: row.seconds for row in rows if row.command == command}
    ratio = times[sizes[-1]] / times[sizes[0]] if len(sizes) > 1 else math.nan
    return "-" if math.isnan(ratio) else f"{ratio:.1f}x"


def cell(row: Row) -> str:
    """A markdown cell: seconds and ratio, or why it was not timed."""
    if row.error:
        return "fails"
    if row.command.startswith("floor"):
        return f"{row.seconds:.2f}"
    return f"{row.seconds:.2f} ({row.ratio:.2f}x)"


def report(rows: list[Row], sizes: list[int]) -> None:
    """The full table, then a markdown table for the README."""
    head = f"{'command':<32} {'size':>5} {'runs':>4} {'median s':>9} {'floor s':>8}"
    print(f"\n{head} ratio")
    for row in rows:
        ratio = "" if row.command.startswith("floor") else f"{row.ratio:5.2f}x"
        print(
            f"{row.command:<32} {row.size:>5} {row.runs:>4} {row.seconds:>9.3f} "
            f"{row.floor:>8.3f} {ratio:>6} {row.error}"
        )
    print(
        "floors: fresh python + import libcst + parse/regenerate registry.py and\n"
        "tests/models/registry.py + read the docs page; check's floor also\n"
        "ast.parse()s every model module, as check itself reads them with ast."
    )
    commands = list(dict.fromkeys(row.command for row in rows))
    scale = sizes[-1] / sizes[0]
    print(f"\ngrowth {sizes[-1]}/{sizes[0]} entries (<= {scale:.0f}x is linear):")
    for command in commands:
        print(f"  {command:<32} {growth(rows, command, sizes)}")
    over = [
        f"{r.command} @ {r.size} ({r.ratio:.2f}x)"
        for r in rows
        if r.ratio > TARGET and not r.command.startswith("floor")
    ]
    print(f"\nover the {TARGET}x target: {', '.join(over) or 'none'}")
    head = " | ".join(f"{size} entries: s (x floor)" for size in sizes)
    print(f"\n| command | {head} | growth |")
    print("| --- " * (len(sizes) + 2) + "|")
    for command in commands:
        cells = " | ".join(cell(r) for r in rows if r.command == command)
        print(f"| `{command}` | {cells} | {growth(rows, command, sizes)} |")


def main(argv: Sequence[str] | None = None) -> int:
    """Generate the trees, time everything, print the tables; 1 if torch leaked."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5, help="runs per median")
    parser.add_argument("--sizes", default="300,3000", help="registry entries")
    parser.add_argument(
        "--budget", type=float, default=20.0, help="seconds per case after 3 runs"
    )
    parser.add_argument(
        "--tree",
        type=Path,
        help="time a real tree instead (a copy of it; e.g. the vLLM release from "
        "tools/fetch_vllm.py), aliasing llama:LlamaForCausalLM",
    )
    args = parser.parse_args(argv)
    if args.tree:
        return bench_real_tree(args.tree, Runs(args.repeat, args.budget))
    # Keep stdout and the stderr progress lines in order when piped to a file.
    sys.stdout.reconfigure(line_buffering=True)  # type: ignore[union-attr]
    sizes = sorted(int(size) for size in args.sizes.split(","))
    rows: list[Row] = []
    clean = True
    with tempfile.TemporaryDirectory(prefix="scaffold-speed-") as scratch:
        for size in sizes:
            root = Path(scratch) / f"tree{size}"
            archs = write_tree(root, size)
            # The generator must be consistent, or the numbers mean nothing.
            timed([sys.executable, "-m", "scaffold", "check", "--root", str(root)])
            print(f"tree of {len(archs)} entries: check exits 0", file=sys.stderr)
            if size == sizes[0]:
                clean = check_heavy_imports(root, archs)
            rows += bench_size(root, archs, Runs(args.repeat, args.budget))
            shutil.rmtree(root)
    report(rows, sizes)
    return 0 if clean else 1


def bench_real_tree(tree: Path, runs: Runs) -> int:
    """The commands on a copy of ``tree``; one table row per command."""
    with tempfile.TemporaryDirectory(prefix="scaffold-speed-") as scratch:
        root = Path(scratch) / "tree"
        for part in ("vllm", "docs", "tests/models", "pyproject.toml"):
            source, target = tree / part, root / part
            target.parent.mkdir(parents=True, exist_ok=True)
            if source.is_dir():
                shutil.copytree(source, target)
            elif source.is_file():
                shutil.copy2(source, target)
        rows = bench_tree(root, "llama:LlamaForCausalLM", 0, runs)
    print(f"| command ({tree.name}) | s | x floor |\n| --- | --- | --- |")
    for row in rows:
        ratio = "" if row.command.startswith("floor") else f"{row.ratio:.2f}x"
        print(f"| {row.command} | {row.seconds:.2f} | {ratio} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
