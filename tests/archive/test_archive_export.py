"""The auditor export, verified with nothing but Python's standard library
(the code of the README inside the export, run in a Python without site
packages)."""

import base64
import io
import json
import subprocess
import sys
import tempfile
import zipfile
from datetime import date
from pathlib import Path

from tests.archive.common import ArchiveCase


def readme_code(readme):
    """The indented Python block of the export's README."""
    lines = readme.splitlines()
    start = next(n for n, line in enumerate(lines) if line.strip() == "import hashlib, json")
    block = []
    for line in lines[start:]:
        if line and not line.startswith("    "):
            break
        block.append(line[4:])
    return "\n".join(block)


class TestAuditorExport(ArchiveCase):
    def export_and_verify(self, entries):
        data = entries._export_zip()
        folder = Path(tempfile.mkdtemp(prefix="heeros-link-export-"))
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            archive.extractall(folder)
        readme = (folder / "README.txt").read_text(encoding="utf-8")
        script = folder / "verify.py"
        script.write_text(readme_code(readme), encoding="utf-8")
        result = subprocess.run(
            [sys.executable, "-I", "-S", str(script)],
            cwd=folder,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        return folder, result

    def test_export_of_a_company_and_date_range_verifies_without_odoo(self):
        partner = self.env["res.partner"].create({"name": "Åsa Ääkkönen Oy"})
        self.received(("in.xml", b"NOTE inbound \xc3\xa4"), company=self.client_a)
        self.archive(
            self.client_a,
            name="bill.pdf",
            document_number="L-1",
            partner_id=partner.id,
            amount=10.1,
            currency_id=self.env.ref("base.EUR").id,
            document_date=date(2026, 2, 1),
        )
        self.old(self.client_a, name="old.txt").with_user(self.archivist).action_dispose()
        self.archive(self.client_a, name="last.txt")
        self.Checkpoint._heeros_link_take(self.client_a)
        self.archive(self.client_b, name="other.txt")
        entries = self.Entry._heeros_link_export_range(self.client_a, date.today(), date.today())
        self.assertEqual(len(entries), 4)
        self.assertEqual(entries.company_id, self.client_a)
        folder, result = self.export_and_verify(entries)
        self.assertEqual(result.returncode, 0, result.stderr)
        self.assertIn("verified 4 documents", result.stdout)
        manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
        rows = {row["file_name"]: row for row in manifest}
        self.assertEqual(rows["bill.pdf"]["counterparty"], "Åsa Ääkkönen Oy")
        self.assertEqual(rows["bill.pdf"]["amount"], "10.10")
        self.assertEqual(rows["old.txt"]["file"], "", "disposed of: no file, hashes kept")
        self.assertTrue(rows["old.txt"]["sha256"])
        self.assertIn("document_number", (folder / "index.csv").read_text(encoding="utf-8").splitlines()[0])
        checkpoints = json.loads((folder / "checkpoints.json").read_text(encoding="utf-8"))
        self.assertEqual(checkpoints[0]["head_hash"], rows["last.txt"]["chain_hash"])

        # the same check fails on a changed file and on a changed manifest
        victim = folder / rows["bill.pdf"]["file"]
        victim.write_bytes(b"changed")
        result = subprocess.run(
            [sys.executable, "-I", "-S", "verify.py"],
            cwd=folder,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        self.assertNotEqual(result.returncode, 0)
        self.assertIn("AssertionError", result.stderr)

    def test_changed_metadata_fails_the_standard_library_check(self):
        self.archive(self.client_b, name="a.txt", document_number="N-1")
        folder, result = self.export_and_verify(self.Entry._heeros_link_export_range(self.client_b))
        self.assertEqual(result.returncode, 0, result.stderr)
        manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
        manifest[0]["chained"]["document_number"] = "N-2"
        (folder / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
        result = subprocess.run(
            [sys.executable, "-I", "-S", "verify.py"],
            cwd=folder,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )
        self.assertNotEqual(result.returncode, 0)

    def test_export_wizard_downloads_a_zip(self):
        self.archive(self.client_a, name="w.txt")
        wizard = (
            self.env["heeros.link.archive.export"]
            .with_user(self.user_a)
            .with_context(allowed_company_ids=self.client_a.ids)
            .create({"company_id": self.client_a.id})
        )
        action = wizard.action_export()
        attachment_id = int(action["url"].split("/web/content/")[1].split("?")[0])
        data = base64.b64decode(self.env["ir.attachment"].browse(attachment_id).datas)
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            self.assertIn("README.txt", archive.namelist())
