"""kill -9 at random (seeded) moments while real worker processes fetch,
process and send, with a consumer taking files from the outbox as a bank
does; after recovery nothing is lost, doubled or delivered twice.

``bench/bench_crash.py`` runs any number of trials; CI runs a few.
"""

import os
import random
import shutil
import signal
import subprocess
import sys
import threading
import time
import unittest
import uuid
from collections import Counter
from pathlib import Path

from odoo.tools import config

from ..common import TEST_DATA
from .test_workers import IBANS, WORKER, psql, template, template_exists

INBOUND = [
    TEST_DATA / "bank" / name for name in ("tito_latin1.txt", "ktl_latin1.txt", "tito_sfs4017.txt", "ktl_sfs4017.txt")
]
FINAL_OUT = {"sent", "to_check"}
FINAL_IN = {"processed", "duplicate", "error"}


class Consumer(threading.Thread):
    """Takes every complete file from the outbox, as a bank does."""

    def __init__(self, outbox):
        super().__init__(daemon=True)
        self.outbox, self.taken, self.stop = outbox, Counter(), threading.Event()

    def run(self):
        while not self.stop.is_set():
            self.take()
            time.sleep(0.005)
        self.take()

    def take(self):
        for entry in os.scandir(self.outbox) if self.outbox.is_dir() else ():
            if entry.name.startswith("."):
                continue
            try:
                os.unlink(entry.path)
            except FileNotFoundError:
                continue
            self.taken[entry.name] += 1


def run_trial(seed, kills=4, outbound=150, log=None):
    """One trial in a throw-away database; returns the outcome counts and
    a list of what went wrong (empty when everything holds)."""
    rng = random.Random(seed)
    db = f"{config['db_name']}_c{uuid.uuid4().hex[:8]}"
    # inside the Link's default folder root of that database
    root = Path(config["data_dir"]) / "heeros_link_folders" / db / "crash"
    subprocess.run(["createdb", "-T", template(), db], check=True)
    problems = []
    consumer = Consumer(root / "outbox")

    def worker(*args):
        return subprocess.Popen(
            [sys.executable, str(WORKER), config.rcfile, db, *args],
            stdout=subprocess.DEVNULL,
            stderr=log or subprocess.DEVNULL,
        )

    try:
        for step in (["setup", *IBANS], ["setup-folder", str(root), str(outbound)]):
            if worker(*step).wait(timeout=300):
                raise RuntimeError(f"harness step {step[0]} failed in {db}")
        (root / "inbox").mkdir(parents=True, exist_ok=True)
        names = []
        for number, path in enumerate(INBOUND * 2):
            names.append(f"{number:02d}-{path.name}")
            shutil.copyfile(path, root / "inbox" / names[-1])
        consumer.start()
        for _kill in range(kills):
            process = worker("cycle", "3")
            time.sleep(rng.uniform(2.0, 7.0))  # the registry takes a second or two to load
            process.send_signal(signal.SIGKILL)
            process.wait()
        if worker("cycle", "3").wait(timeout=300):
            problems.append("the last worker failed")
        consumer.stop.set()
        consumer.join()
        rows = psql(
            db,
            "SELECT id, direction, state, coalesce(file_name, ''), coalesce(error, '') "
            "FROM heeros_link_message WHERE connection_id IS NOT NULL",
        )
        states = Counter(row[2] for row in rows)
        for _id, direction, state, file_name, error in rows:
            if state not in (FINAL_OUT if direction == "out" else FINAL_IN):
                problems.append(f"{file_name} left {state}")
            if state == "to_check" and "Delivery unknown" not in error:
                problems.append(f"{file_name} asks a person without saying why")
        sent = {row[3] for row in rows if row[1] == "out" and row[2] == "sent"}
        for name, count in consumer.taken.items():
            if count > 1:
                problems.append(f"{name} delivered {count} times")
        for name in sent - set(consumer.taken):
            problems.append(f"{name} is sent but never arrived")
        stored = {row[3] for row in rows if row[1] == "in"}
        waiting = set(os.listdir(root / "inbox"))
        problems += [f"inbound {name} lost" for name in names if name not in stored | waiting]
        problems += [
            f"statement line {row[0]} doubled"
            for row in psql(
                db,
                "SELECT heeros_link_import_id FROM account_bank_statement_line WHERE heeros_link_import_id "
                "IS NOT NULL GROUP BY 1 HAVING count(*) > 1",
            )
        ]
        return states, problems
    finally:
        consumer.stop.set()
        subprocess.run(["dropdb", "--if-exists", db], check=False)
        shutil.rmtree(root.parent, ignore_errors=True)


@unittest.skipUnless(config.rcfile and template_exists(), "needs the template copy made by .ci/link test")
class TestCrash(unittest.TestCase):
    def test_kill_during_fetch_process_and_send(self):
        for seed in (1,):
            states, problems = run_trial(seed)
            self.assertEqual(problems, [], f"seed {seed}: {dict(states)}")
            self.assertGreater(states["sent"] + states["to_check"], 0)
