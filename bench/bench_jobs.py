"""Job workers (queue_job): files per second processed by 1, 2, ... real job
worker processes sharing one import queue; prints throughput, the jobs each
worker ran and the workers' peak memory.

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


def run(config, db, *args):
    result = subprocess.run(
        [sys.executable, str(WORKER), config, db, *args], capture_output=True, text=True, check=False
    )
    if result.returncode:
        raise SystemExit(f"worker {args[0]} failed:\n{result.stderr[-3000:]}")
    return result.stdout


def round_(config, template, files, workers):
    db = f"{template}_b{uuid.uuid4().hex[:8]}"
    subprocess.run(["createdb", "-T", template, db], check=True)
    try:
        run(config, db, "setup", *IBANS)
        paths = [str(BANK / FILES[n % len(FILES)]) for n in range(files)]
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
            reports = [json.loads(p.communicate()[0].splitlines()[-1]) for p in processes]
            elapsed = time.monotonic() - began
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
        return elapsed, reports, states
    finally:
        subprocess.run(["dropdb", "--if-exists", db], check=False)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("-c", "--config", required=True)
    parser.add_argument("-d", "--database", required=True)
    parser.add_argument("--files", type=int, default=100)
    parser.add_argument("--workers", default="1,2", help="worker counts to try, comma separated")
    opts = parser.parse_args()
    template = f"{opts.database}_tpl"
    for workers in (int(n) for n in opts.workers.split(",")):
        elapsed, reports, states = round_(opts.config, template, opts.files, workers)
        jobs = [r["performed"] for r in reports]
        failed = sum(r["failed"] for r in reports)
        print(
            f"{workers} worker(s): {opts.files} files in {elapsed:.1f} s ({opts.files / elapsed:.1f} files/s), "
            f"jobs per worker {jobs}, {failed} failed; messages {' '.join(states)}"
        )
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(f"peak memory of one worker process: {peak:.0f} MB")


if __name__ == "__main__":
    main()
