"""``odoo-bin link verify-archive`` in a real Odoo process.

The command runs in its own process and reads committed data, so this test
commits a company of its own and restores the file it tampers with."""

import json
import os
import tempfile
import unittest
import uuid
from pathlib import Path

from odoo import SUPERUSER_ID, api
from odoo.modules.registry import Registry
from odoo.tools import config
from tests.base.test_cli import run_link


@unittest.skipUnless(config.rcfile and os.path.exists(config.rcfile or ""), "needs the Odoo config file")
class TestVerifyArchiveCli(unittest.TestCase):
    def test_json_and_exit_code_with_and_without_faults(self):
        registry = Registry(config["db_name"])
        with registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            company = env["res.company"].create({"name": f"CLI archive {uuid.uuid4().hex[:8]}"})
            company_id = company.id
        path = Path(tempfile.mkdtemp(prefix="heeros-link-cli-")) / "note.txt"
        path.write_bytes(f"archived from the command line {uuid.uuid4().hex}".encode())
        imported = run_link("import", "--no-process", "--company", str(company_id), str(path))
        self.assertEqual(imported.returncode, 0, imported.stderr[-2000:])
        with registry.cursor() as cr:
            # processed, as a handler leaves it: its payload is archived in its final state
            env = api.Environment(cr, SUPERUSER_ID, {})
            message = env["heeros.link.message"].search([("company_id", "=", company_id)])
            self.assertEqual(len(message), 1)
            message._set_state("processing")
            message._set_state("processed")

        result = run_link("verify-archive", "--company", str(company_id))
        self.assertEqual(result.returncode, 0, result.stderr[-2000:])
        report = json.loads(result.stdout)
        self.assertEqual(report["faults"], [])
        self.assertEqual(report["result"], "ok")
        self.assertEqual([(c["company_id"], c["entries"]) for c in report["companies"]], [(company_id, 1)])
        self.assertIsInstance(report["verification_id"], int)

        with registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            entry = env["heeros.link.archive.entry"].search([("company_id", "=", company_id)])
            env["heeros.link.archive.checkpoint"]._heeros_link_take(env["res.company"].browse(company_id))
            stored = entry.attachment_id._full_path(entry.attachment_id.store_fname)
            entry_id = entry.id
        original = Path(stored).read_bytes()
        self.addCleanup(Path(stored).write_bytes, original)
        Path(stored).write_bytes(b"changed on disk")
        result = run_link("verify-archive", "--company", str(company_id))
        self.assertEqual(result.returncode, 1, result.stderr[-2000:])
        report = json.loads(result.stdout)
        self.assertEqual([(f["entry"], f["check"]) for f in report["faults"]], [(entry_id, "bytes")])
        self.assertEqual(
            report["companies"][0]["checkpoint"]["head_entry_id"], entry_id, "the latest checkpoint is printed"
        )

        missing = run_link("verify-archive", "--company", "999999")
        self.assertEqual(missing.returncode, 2)
        self.assertIn("no company with id 999999", missing.stdout)
