"""``odoo-bin link import`` and ``link status`` in a real Odoo process.

The command runs in its own process and commits to the test database, so
these tests use file contents unique to each run and look only at their own
messages.
"""

import json
import os
import subprocess
import sys
import tempfile
import unittest
import uuid
from pathlib import Path

import odoo
from odoo.tests.common import TransactionCase
from odoo.tools import config


def odoo_bin():
    return str(Path(odoo.__file__).resolve().parent.parent / "odoo-bin")


def run_link(*args):
    addons = config["addons_path"] if isinstance(config["addons_path"], str) else ",".join(config["addons_path"])
    cmd = [
        sys.executable,
        odoo_bin(),
        f"--addons-path={addons}",
        "link",
        *args,
        "-c",
        config.rcfile,
        "-d",
        config["db_name"],
    ]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=300)


@unittest.skipUnless(config.rcfile and os.path.exists(config.rcfile or ""), "needs the Odoo config file")
class TestCli(unittest.TestCase):
    def test_import_prints_one_json_object_per_file_and_fails_on_errors(self):
        tmp = Path(tempfile.mkdtemp(prefix="heeros-link-cli-"))
        unique = uuid.uuid4().hex
        unknown = tmp / "unknown.txt"
        unknown.write_text(f"just some text {unique}")
        empty = tmp / "empty.xml"
        empty.write_bytes(b"")
        missing = tmp / "missing.xml"
        result = run_link("import", str(unknown), str(empty), str(missing))
        self.assertEqual(result.returncode, 1, result.stderr[-2000:])
        lines = [json.loads(line) for line in result.stdout.splitlines()]
        self.assertEqual([line["file"] for line in lines], [str(unknown), str(empty), str(missing)])
        for line in lines:
            self.assertEqual(
                set(line) >= {"file", "message_id", "type", "company_id", "state", "error", "records"}, True
            )
            self.assertEqual(line["state"], "error")
        self.assertIn("unrecognised document", lines[0]["error"])
        self.assertEqual(lines[0]["type"], "unknown")
        self.assertIsInstance(lines[0]["message_id"], int)
        self.assertIn("empty", lines[1]["error"])
        self.assertIsNone(lines[2]["message_id"])
        self.assertIn("cannot read", lines[2]["error"])

        status = run_link("status")
        self.assertEqual(status.returncode, 0, status.stderr[-2000:])
        rows = json.loads(status.stdout)
        self.assertTrue(any(r["type"] == "unknown" and r["state"] == "error" and r["count"] >= 2 for r in rows))

    def test_unknown_company_is_refused(self):
        tmp = Path(tempfile.mkdtemp(prefix="heeros-link-cli-"))
        (tmp / "a.txt").write_text("x")
        result = run_link("import", "--company", "999999", str(tmp / "a.txt"))
        self.assertNotEqual(result.returncode, 0)
        self.assertIn("no company with id 999999", result.stdout)


@unittest.skipUnless(config.rcfile and os.path.exists(config.rcfile or ""), "needs the Odoo config file")
class TestCliOptions(unittest.TestCase):
    """Odoo's own options, the stored-only mode and the default company."""

    def _file(self, text):
        tmp = Path(tempfile.mkdtemp(prefix="heeros-link-cli-"))
        path = tmp / "note.txt"
        path.write_text(f"{text} {uuid.uuid4().hex}")
        return path

    def test_no_process_exits_zero_when_every_file_is_stored(self):
        path = self._file("stored only")
        result = run_link("import", "--no-process", str(path))
        self.assertEqual(result.returncode, 0, result.stdout + result.stderr[-2000:])
        line = json.loads(result.stdout.splitlines()[0])
        self.assertEqual(line["state"], "received")
        self.assertIsInstance(line["message_id"], int)

    def test_no_process_still_fails_for_an_unreadable_file(self):
        result = run_link("import", "--no-process", "/nonexistent/heeros-link.xml")
        self.assertEqual(result.returncode, 1, result.stdout)

    def test_odoo_options_anywhere_and_values_not_taken_for_files(self):
        path = self._file("options first")
        addons = config["addons_path"] if isinstance(config["addons_path"], str) else ",".join(config["addons_path"])
        cmd = [
            sys.executable,
            odoo_bin(),
            f"--addons-path={addons}",
            "link",
            "import",
            "-c",
            config.rcfile,
            "--db_host",
            str(config["db_host"] or ""),
            "-d",
            config["db_name"],
            "--no-process",
            "--log-level",
            "error",
            str(path),
        ]
        result = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
        self.assertEqual(result.returncode, 0, result.stdout + result.stderr[-2000:])
        lines = [json.loads(line) for line in result.stdout.splitlines()]
        self.assertEqual([line["file"] for line in lines], [str(path)])


class TestCliDefaultCompany(TransactionCase):
    def test_default_company_is_the_administrators_not_the_superusers(self):
        from odoo.addons.heeros_link_base.cli.link import Link

        admin = self.env.ref("base.user_admin")
        other = self.env["res.company"].create({"name": "CLI default company Oy"})
        admin.write({"company_ids": [(4, other.id)], "company_id": other.id})
        self.assertNotEqual(self.env.user.company_id, other)
        self.assertEqual(Link._default_company(self.env), other)
        admin.active = False
        self.assertEqual(Link._default_company(self.env), self.env.user.company_id)
