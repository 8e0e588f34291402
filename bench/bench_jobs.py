"""Job workers (queue_job): files per second processed by 1, 2, ... real job
worker processes sharing one import queue; prints throughput, the jobs each
worker ran and the workers' peak memory. The files are distinct KTL reference
payment files (``--same`` uses four sample files over and over instead: the
copies become duplicates, and files with the same content wait for each other).

    python bench/bench_jobs.py -c odoo-test.conf -d heeros_link_test --files 100 --workers 1,2

Each round works in a throw-away copy of ``<database>_tpl`` (made by
``bash .ci/link test``, with queue_job installed) and drops it afterwards.
"""

# pylint: disable=print-used
import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

WORKER = Path(__file__).resolve().parent.parent / "tests" / "harness" / "worker.py"
BANK = Path(__file__).resolve().parent.parent / "tests" / "data" / "bank"
FILES = ("tito_latin1.txt", "ktl_latin1.txt", "tito_sfs4017.txt", "ktl_sfs4017.txt")
IBANS = ("FI4819503000000010", "FI1557169020004185")
CHANNEL = "root.heeros_link.import"
LOG = None


def run(config, db, *args):
    result = subprocess.run(
        [sys.executable, str(WORKER), config, db, *args], capture_output=True, text=True, check=False
    )
    if result.returncode:
        raise SystemExit(f"worker {args[0]} failed:\n{result.stderr[-3000:]}")
    return result.stdout


def write_files(folder, count, same):
    """``count`` files to import: distinct KTL files, or the samples repeated."""
    if same:
        return [str(BANK / FILES[n % len(FILES)]) for n in range(count)]
    paths = []
    for n in range(count):
        path = Path(folder) / f"ref-{n:05d}.ktl"
        path.write_bytes(ktl_file(IBANS[n % len(IBANS)][4:], f"KTLBENCH{n:08d}", 1000 + n, 1000 + n % 9000))
        paths.append(str(path))
    return paths


def ktl_file(bban, archive, reference, cents, day="240304"):
    """A KTL file of one reference payment (a Finnish reference: base and check digit)."""
    digits = str(reference)
    weights = (7, 3, 1) * 7
    check = -sum(int(d) * w for d, w in zip(reversed(digits), weights)) % 10
    ref = f"{digits}{check}".rjust(20, "0")
    lines = [
        f"0{day}220001123456789" + "1",
        f"3{bban}{day}{day}{archive:16}{ref}{'MAKSAJA':12}1A{cents:010d}0A0",
        f"9{1:06d}{cents:011d}{0:06d}{0:011d}",
    ]
    return "".join(line.ljust(90) + "\r\n" for line in lines).encode("latin-1")


def round_(config, template, paths, workers):
    db = f"{template}_b{uuid.uuid4().hex[:8]}"
    subprocess.run(["createdb", "-T", template, db], check=True)
    try:
        run(config, db, "setup", *IBANS)
        run(config, db, "intake", *paths)
        run(config, db, "enqueue")
        with tempfile.TemporaryDirectory() as tmp:
            start = Path(tmp) / "start"
            processes = [
                subprocess.Popen(
                    [sys.executable, str(WORKER), config, db, "jobs", CHANNEL, str(start)],
                    stdout=subprocess.PIPE,
                    stderr=subprocess.PIPE,
                    text=True,
                )
                for _i in range(workers)
            ]
            while len(list(Path(tmp).glob("start.*.ready"))) < workers:
                time.sleep(0.05)
            began = time.monotonic()
            start.touch()
            outputs = [p.communicate() for p in processes]
            reports = [json.loads(out.splitlines()[-1]) for out, _err in outputs]
            if LOG:
                Path(LOG).write_text("\n".join(err for _out, err in outputs))
            elapsed = time.monotonic() - began
        retries = subprocess.run(
            ["psql", "-d", db, "-Atc", "SELECT coalesce(sum(retry - 1), 0) FROM queue_job"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        states = subprocess.run(
            [
                "psql",
                "-d",
                db,
                "-Atc",
                "SELECT state, count(*) FROM heeros_link_message WHERE direction = 'in' GROUP BY 1 ORDER BY 1",
            ],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.split()
        return elapsed, reports, states, retries
    finally:
        subprocess.run(["dropdb", "--if-exists", db], check=False)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("-c", "--config", required=True)
    parser.add_argument("-d", "--database", required=True)
    parser.add_argument("--files", type=int, default=100)
    parser.add_argument("--workers", default="1,2", help="worker counts to try, comma separated")
    parser.add_argument("--same", action="store_true", help="the four sample files over and over")
    opts = parser.parse_args()
    import tests.conftest  # noqa: F401 - puts the addons on Odoo's path
    from odoo.tools import config

    config.parse_config(["-c", opts.config, "-d", opts.database])
    template = f"{opts.database}_tpl"
    folder = tempfile.TemporaryDirectory()
    paths = write_files(folder.name, opts.files, opts.same)
    for workers in (int(n) for n in opts.workers.split(",")):
        elapsed, reports, states, retries = round_(opts.config, template, paths, workers)
        jobs = [r["performed"] for r in reports]
        failed = sum(r["failed"] for r in reports)
        print(
            f"{workers} worker(s): {opts.files} files in {elapsed:.1f} s ({opts.files / elapsed:.1f} files/s), "
            f"jobs per worker {jobs}, {retries} retried, {failed} failed; messages {' '.join(states)}"
        )
    folder.cleanup()
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(f"peak memory of the largest worker process: {peak:.0f} MB")


if __name__ == "__main__":
    main()
