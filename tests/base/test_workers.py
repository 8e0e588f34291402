"""Several real worker processes on one database: two ``link import``
processes on the same files, two processing runners on one queue.

Each test works in a throw-away copy of ``<test database>_tpl`` (made by
``bash .ci/link test`` right after installation) and drops it afterwards.
"""

import json
import subprocess
import sys
import unittest
import uuid
from pathlib import Path

from odoo.tools import config

from ..common import TEST_DATA
from .test_cli import odoo_bin

WORKER = Path(__file__).resolve().parent.parent / "harness" / "worker.py"
IBANS = ("FI4819503000000010", "FI1557169020004185")
FILES = [
    TEST_DATA / "bank" / name for name in ("tito_latin1.txt", "ktl_latin1.txt", "tito_sfs4017.txt", "ktl_sfs4017.txt")
]


def template():
    return f"{config['db_name']}_tpl"


def psql(db, sql):
    out = subprocess.run(["psql", "-d", db, "-Atc", sql], capture_output=True, text=True, check=True)
    return [line.split("|") for line in out.stdout.splitlines() if line]


def template_exists():
    if not config.get("db_name"):
        return False
    return bool(psql("postgres", f"SELECT 1 FROM pg_database WHERE datname = '{template()}'"))


@unittest.skipUnless(config.rcfile and template_exists(), "needs the template copy made by .ci/link test")
class TestWorkers(unittest.TestCase):
    def setUp(self):
        self.db = f"{config['db_name']}_w{uuid.uuid4().hex[:8]}"
        subprocess.run(["createdb", "-T", template(), self.db], check=True)
        self.addCleanup(subprocess.run, ["dropdb", "--if-exists", self.db], check=False)
        self.worker("setup", *IBANS)

    def worker(self, *args, wait=True):
        cmd = [sys.executable, str(WORKER), config.rcfile, self.db, *args]
        if not wait:
            return subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        result = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
        self.assertEqual(result.returncode, 0, result.stderr[-3000:])
        return result.stdout

    def link_import(self):
        addons = config["addons_path"] if isinstance(config["addons_path"], str) else ",".join(config["addons_path"])
        return subprocess.Popen(
            [
                sys.executable,
                odoo_bin(),
                f"--addons-path={addons}",
                "link",
                "import",
                "-c",
                config.rcfile,
                "-d",
                self.db,
                *map(str, FILES),
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )

    def assert_no_doubled_line(self):
        doubled = psql(
            self.db,
            "SELECT heeros_link_import_id FROM account_bank_statement_line "
            "WHERE heeros_link_import_id IS NOT NULL GROUP BY 1 HAVING count(*) > 1",
        )
        self.assertEqual(doubled, [])
        self.assertTrue(
            psql(self.db, "SELECT 1 FROM account_bank_statement_line LIMIT 1"), "the files made statement lines"
        )

    def test_two_imports_of_the_same_files(self):
        first, second = self.link_import(), self.link_import()
        outputs = [process.communicate(timeout=300) for process in (first, second)]
        results = {}
        for stdout, stderr in outputs:
            lines = [json.loads(line) for line in stdout.splitlines()]
            self.assertEqual(len(lines), len(FILES), stderr[-3000:])
            for line in lines:
                results.setdefault(line["file"], []).append(line)
        for path, pair in results.items():
            states = sorted(line["state"] for line in pair)
            self.assertNotIn("error", states, pair)
            self.assertIn("duplicate", states, f"{path} was processed by both imports")
        self.assertEqual(first.returncode, 0)
        self.assertEqual(second.returncode, 0)
        self.assert_no_doubled_line()

    def test_two_processing_runners_on_one_queue(self):
        ids = json.loads(self.worker("intake", *map(str, FILES * 5)))
        runners = [self.worker("process", "3", wait=False) for _i in range(2)]
        for runner in runners:
            _out, err = runner.communicate(timeout=300)
            self.assertEqual(runner.returncode, 0, err[-3000:])
            self.assertNotIn("could not serialize", err)
        rows = psql(
            self.db,
            "SELECT id, state, attempts, coalesce(error, '') FROM heeros_link_message "
            f"WHERE id IN ({','.join(map(str, ids))})",
        )
        self.assertEqual(len(rows), len(ids))
        for _id, state, attempts, error in rows:
            self.assertIn(state, ("processed", "duplicate"), error)
            self.assertEqual(attempts, "1", "each message is processed exactly once")
        self.assertEqual(sum(1 for row in rows if row[1] == "processed") <= len(FILES), True)
        self.assert_no_doubled_line()
