"""Benchmark: mlgate's input hashing against sha256sum on the same files.

Generates a dataset (default 2 GB: three large files and a folder of 1 MB files) in a temporary
folder inside a small mlgate project, then measures, in one run:

* ``sha256sum`` over every file (one process, as usually run), and over the same files split
  across as many processes as mlgate uses threads;
* ``openssl dgst -sha256`` (one process): the same OpenSSL code Python's hashlib calls, as a
  reference for the fastest single-threaded sha256 on this CPU;
* mlgate's hasher in-process, with one thread and with its default thread count;
* ``mlgate lock`` with an empty stat cache (a cold lock: every byte read and hashed), as a
  separate process, start-up included;
* ``mlgate lock`` again with nothing changed (the stat cache answers), median of several runs;
* peak memory (max RSS) of hashing one file of growing sizes, and of the cold lock.

Files are read from the page cache in every measurement (the machine is not asked to drop its
caches), so this compares hashing, not disks. Writes JSON and prints a Markdown table.

    python bench/hashing.py [--size-gb 2] [--out bench/work/hashing.json]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from mlgate import proc
from mlgate.repro.hashing import default_workers

BLOCK = 16 * 1024 * 1024
OLD = 1_600_000_000  # file times set in the past, as for any dataset not written seconds ago
MB = 1_000_000

PROJECT_YAML = """\
version: 1
models:
  - name: bench
    path: models/bench
    data:
      train: data/big
      extra: [data/parts]
    model: {file: model.skops, task: regression}
"""


def generate(root: Path, total: int) -> list[Path]:
    """Half the bytes in three large files (2:1:1), half in 1 MB files; all distinct content."""
    data = root / "models" / "bench" / "data"
    big, parts = data / "big", data / "parts"
    big.mkdir(parents=True)
    parts.mkdir()
    half = total // 2
    sizes = {big / "a.bin": half // 2, big / "b.bin": half // 4, big / "c.bin": half // 4}
    for i in range(half // MB):
        sizes[parts / f"part-{i:05d}.bin"] = MB
    noise = os.urandom(BLOCK)
    for n, (path, size) in enumerate(sizes.items()):
        with path.open("wb") as fh:
            written = 0
            while written < size:
                chunk = min(BLOCK, size - written)
                fh.write(n.to_bytes(8, "little") + noise[8:chunk])
                written += chunk
        os.utime(path, (OLD, OLD))
    (root / "mlgate.yaml").write_text(PROJECT_YAML)
    # A git repository, as in real use: code is what git tracks; the data is not in git.
    code = root / "models" / "bench" / "train.py"
    code.write_text("print('train')\n")
    os.utime(code, (OLD, OLD))
    (root / ".gitignore").write_text("models/bench/data/\n.mlgate/\n")
    env = {**os.environ, "GIT_AUTHOR_NAME": "bench", "GIT_AUTHOR_EMAIL": "bench@example.com"}
    env.update(GIT_COMMITTER_NAME="bench", GIT_COMMITTER_EMAIL="bench@example.com")
    for git in (["init", "-q"], ["add", "-A"], ["commit", "-qm", "bench project"]):
        proc.run(["git", *git], cwd=root, env=env)
    return list(sizes)


def timed(argv: list[str], cwd: Path) -> tuple[float, str]:
    began = time.perf_counter()
    done = proc.run(argv, cwd=cwd)
    return time.perf_counter() - began, done.stdout


def sha256sum(files: list[Path], cwd: Path, processes: int) -> float:
    """Wall time of sha256sum over ``files`` split into ``processes`` concurrent processes."""
    groups = [files[i::processes] for i in range(processes)]
    began = time.perf_counter()
    procs = [
        subprocess.Popen(["sha256sum", *map(str, group)], cwd=cwd, stdout=subprocess.DEVNULL)
        for group in groups
    ]
    for p in procs:
        if p.wait() != 0:
            raise SystemExit("sha256sum failed")
    return time.perf_counter() - began


# Peak RSS of this process: VmHWM (ru_maxrss would include the parent's size at fork on Linux).
PEAK = """
def peak_kb():
    import resource
    try:
        for line in open("/proc/self/status"):
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
"""

MAXRSS_LOCK = (
    PEAK
    + """
import sys
from mlgate.cli.main import main
code = main(["lock", "--json"])
print(peak_kb(), file=sys.stderr)
sys.exit(code)
"""
)

MAXRSS_FILE = (
    PEAK
    + """
import sys
from pathlib import Path
from mlgate.repro.hashing import hash_file
hash_file(Path(sys.argv[1]))
print(peak_kb())
"""
)


def max_rss_kb(script: str, *args: str, cwd: Path) -> tuple[int, str]:
    done = proc.run([sys.executable, "-c", script, *args], cwd=cwd)
    if args:
        return int(done.stdout.strip()), done.stdout
    return int(done.stderr.strip().splitlines()[-1]), done.stdout


HASH_ONLY = """
import sys, time
from pathlib import Path
from mlgate.repro.hashing import Hasher
files = [Path(p) for p in sys.stdin.read().split("\\0") if p]
began = time.perf_counter()
Hasher(workers=int(sys.argv[1])).hash_files(files)
print(time.perf_counter() - began)
"""


RELOCK_CORE = """
import statistics, sys, time
from mlgate.config.loader import load_config
from mlgate.repro.locking import LockRequest, lock
times = []
for _ in range(int(sys.argv[1])):
    began = time.perf_counter()
    result = lock(LockRequest(load_config()))  # the configuration is read each time, as before
    times.append(time.perf_counter() - began)
    if result.stats.hashed_files or result.written:
        sys.exit(f"unchanged re-lock hashed {result.stats.hashed_files} files")
print(statistics.median(times))
"""


def hash_only(files: list[Path], workers: int, cwd: Path) -> float:
    """Seconds mlgate's hasher takes in-process (interpreter start-up excluded)."""
    done = proc.run(
        [sys.executable, "-c", HASH_ONLY, str(workers)],
        input_text="\0".join(map(str, files)),
        cwd=cwd,
    )
    return float(done.stdout)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size-gb", type=float, default=2.0)
    parser.add_argument("--relock-runs", type=int, default=5)
    parser.add_argument("--out", type=Path, default=Path("bench/work/hashing.json"))
    args = parser.parse_args()
    if shutil.which("sha256sum") is None:
        raise SystemExit("sha256sum (GNU coreutils) is required as the reference")
    total = int(args.size_gb * 1e9)
    workers = default_workers()
    mlgate = [sys.executable, "-m", "mlgate"]
    root = Path(tempfile.mkdtemp(prefix="mlgate-bench-hashing-"))
    try:
        files = generate(root, total)
        nbytes = sum(f.stat().st_size for f in files)
        for path in files:  # warm the page cache, so every tool reads from memory alike
            with path.open("rb") as fh:
                while fh.read(BLOCK):
                    pass

        ref_1 = sha256sum(files, root, 1)
        ref_n = sha256sum(files, root, workers)
        openssl = None
        if shutil.which("openssl"):
            openssl = timed(["openssl", "dgst", "-sha256", *map(str, files)], root)[0]
        one_thread = hash_only(files, 1, root)
        threads = hash_only(files, workers, root)
        cold, stdout = timed([*mlgate, "lock", "--json"], root)
        hashed = json.loads(stdout)["hashing"]
        if hashed["hashed_bytes"] < nbytes:  # plus the code file
            raise SystemExit(f"cold lock hashed {hashed['hashed_bytes']} of {nbytes} bytes")
        relocks = [timed([*mlgate, "lock", "--json"], root)[0] for _ in range(args.relock_runs)]
        startup = [timed([*mlgate, "--version"], root)[0] for _ in range(args.relock_runs)]
        core = float(
            proc.run([sys.executable, "-c", RELOCK_CORE, str(args.relock_runs)], cwd=root).stdout
        )
        last = json.loads(timed([*mlgate, "lock", "--json"], root)[1])["hashing"]
        if last["hashed_files"] != 0:
            raise SystemExit(f"unchanged re-lock re-read {last['hashed_files']} files")

        shutil.rmtree(root / ".mlgate" / "cache")
        lock_rss, _ = max_rss_kb(MAXRSS_LOCK, cwd=root)
        by_size = {}
        for path in sorted({files[-1], files[2], files[0]}, key=lambda p: p.stat().st_size):
            by_size[path.stat().st_size] = max_rss_kb(MAXRSS_FILE, str(path), cwd=root)[0]
    finally:
        shutil.rmtree(root, ignore_errors=True)

    results = {
        "benchmark": "hashing",
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "platform": platform.platform(),
            "note": "shared machine, measured once under contention; page cache warm",
        },
        "dataset": {"bytes": nbytes, "files": len(files)},
        "workers": workers,
        "sha256sum_s": round(ref_1, 3),
        "sha256sum_parallel_s": round(ref_n, 3),
        "openssl_s": round(openssl, 3) if openssl else None,
        "mlgate_hasher_1_thread_s": round(one_thread, 3),
        "mlgate_hasher_threads_s": round(threads, 3),
        "mlgate_cold_lock_s": round(cold, 3),
        "mlgate_relock_s": [round(t, 3) for t in relocks],
        "mlgate_relock_median_s": round(statistics.median(relocks), 3),
        "mlgate_relock_in_process_median_s": round(core, 3),
        "python_startup_median_s": round(statistics.median(startup), 3),
        "throughput_mb_s": {
            "sha256sum": round(nbytes / ref_1 / MB, 1),
            "sha256sum_parallel": round(nbytes / ref_n / MB, 1),
            "openssl": round(nbytes / openssl / MB, 1) if openssl else None,
            "mlgate_hasher_1_thread": round(nbytes / one_thread / MB, 1),
            "mlgate_hasher_threads": round(nbytes / threads / MB, 1),
            "mlgate_cold_lock": round(nbytes / cold / MB, 1),
        },
        "ratio_vs_sha256sum": round(ref_1 / cold, 3),
        "ratio_vs_sha256sum_parallel": round(ref_n / cold, 3),
        "max_rss_kb": {"cold_lock": lock_rss, "hash_file_by_size": by_size},
        "targets": {"ratio_vs_sha256sum": ">= 0.8", "mlgate_relock_median_s": "< 0.5"},
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2) + "\n")
    print(markdown(results))


def markdown(r: dict) -> str:
    t = r["throughput_mb_s"]
    base = r["sha256sum_s"]
    gb = r["dataset"]["bytes"] / 1e9

    def row(label: str, seconds: float, mb_s: float) -> str:
        return f"| {label} | {seconds} | {mb_s} | {base / seconds:.2f} |"

    rows = [
        (
            f"Hashing {gb:.2f} GB in {r['dataset']['files']} files ({r['machine']['cpus']} CPUs, "
            f"{r['workers']} hashing threads; {r['machine']['note']})"
        ),
        "",
        "| measurement | time (s) | MB/s | speed vs sha256sum |",
        "|---|---:|---:|---:|",
        row("sha256sum, 1 process", base, t["sha256sum"]),
        row(
            f"sha256sum, {r['workers']} processes",
            r["sha256sum_parallel_s"],
            t["sha256sum_parallel"],
        ),
    ]
    if r["openssl_s"]:
        rows.append(row("openssl dgst -sha256, 1 process", r["openssl_s"], t["openssl"]))
    rows += [
        row("mlgate hasher, 1 thread", r["mlgate_hasher_1_thread_s"], t["mlgate_hasher_1_thread"]),
        row(
            f"mlgate hasher, {r['workers']} threads",
            r["mlgate_hasher_threads_s"],
            t["mlgate_hasher_threads"],
        ),
        row("mlgate lock, cold (whole command)", r["mlgate_cold_lock_s"], t["mlgate_cold_lock"]),
        (
            f"| mlgate lock, unchanged (whole command, median of {len(r['mlgate_relock_s'])}) "
            f"| {r['mlgate_relock_median_s']} | - | - |"
        ),
        (
            "| ... of which the lock itself (in-process, median) "
            f"| {r['mlgate_relock_in_process_median_s']} | - | - |"
        ),
        f"| ... for comparison: `mlgate --version` | {r['python_startup_median_s']} | - | - |",
        "",
        "| peak memory (max RSS) | KB |",
        "|---|---:|",
        f"| mlgate lock, cold, whole dataset | {r['max_rss_kb']['cold_lock']} |",
    ]
    rows += [
        f"| hash one {size / MB:.0f} MB file | {kb} |"
        for size, kb in r["max_rss_kb"]["hash_file_by_size"].items()
    ]
    return "\n".join(rows)


if __name__ == "__main__":
    main()
