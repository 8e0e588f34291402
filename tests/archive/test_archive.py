"""The electronic archive: every payload archived, immutable, verifiable."""

import hashlib
import io
import json
import zipfile
from datetime import date, timedelta

from odoo.exceptions import UserError
from tests.base.common import LinkCase


class TestArchive(LinkCase):
    def test_every_payload_is_archived_with_hash_chain(self):
        inbound = self.intake(("in.txt", b"NOTE archived"), company=self.client_a, process=False)
        outbound = self.Message._link_queue(
            "test.out", "out.xml", b"<pain/>", self.client_a, connection=self.connection
        )
        Entry = self.env["heeros.link.archive.entry"]
        entries = Entry.search([("message_id", "in", (inbound | outbound).ids)], order="id")
        self.assertEqual(entries.mapped("message_id"), inbound | outbound)
        self.assertEqual(entries[0].sha256, hashlib.sha256(b"NOTE archived").hexdigest())
        self.assertEqual(entries[0].attachment_id.raw, b"NOTE archived")
        self.assertEqual(entries[1].previous_id, entries[0], "chained per company")
        self.assertEqual(entries[0].retain_until.year, date.today().year + 10)
        self.assertFalse(entries._verify())
        self.assertEqual(set(entries.mapped("verification")), {"ok"})

    def test_archive_cannot_be_changed_or_deleted(self):
        message = self.intake(("x.txt", b"NOTE x"), process=False)
        entry = message.archive_entry_id
        with self.assertRaises(UserError):
            entry.write({"sha256": "0" * 64})
        with self.assertRaises(UserError):
            entry.unlink()
        with self.assertRaises(UserError):
            entry.attachment_id.write({"raw": b"forged"})
        with self.assertRaises(UserError):
            entry.attachment_id.unlink()
        with self.assertRaises(UserError):
            message.attachment_id.write({"raw": b"forged"})

    def test_verification_detects_tampering_below_the_orm(self):
        first = self.intake(("1.txt", b"NOTE one"), company=self.client_b, process=False).archive_entry_id
        second = self.intake(("2.txt", b"NOTE two"), company=self.client_b, process=False).archive_entry_id
        # someone edits the database directly
        self.env.cr.execute("UPDATE heeros_link_archive_entry SET file_name = 'renamed.txt' WHERE id = %s", [first.id])
        self.env.invalidate_all()
        broken = (first | second)._verify()
        self.assertEqual(broken, first)
        self.assertEqual(first.verification, "broken")
        action = (first | second).action_verify()
        self.assertEqual(action["params"]["type"], "danger")

    def test_auditor_export_contains_documents_and_manifest(self):
        message = self.intake(("a.txt", b"NOTE export"), process=False)
        entry = message.archive_entry_id
        with zipfile.ZipFile(io.BytesIO(entry._export_zip())) as archive:
            manifest = json.loads(archive.read("manifest.json"))
            self.assertEqual(manifest[0]["sha256"], hashlib.sha256(b"NOTE export").hexdigest())
            self.assertEqual(archive.read(manifest[0]["file"]), b"NOTE export")
            self.assertIn("a.txt", archive.read("index.csv").decode())

    def test_purge_after_retention_keeps_the_hash(self):
        entry = self.intake(("old.txt", b"NOTE old"), process=False).archive_entry_id
        self.env.cr.execute(
            "UPDATE heeros_link_archive_entry SET retain_until = %s WHERE id = %s",
            [date.today() - timedelta(days=1), entry.id],
        )
        self.env.invalidate_all()
        purged = self.env["heeros.link.archive.entry"]._cron_purge()
        self.assertIn(entry, purged)
        self.assertTrue(entry.purged)
        self.assertFalse(entry.attachment_id)
        self.assertEqual(entry.sha256, hashlib.sha256(b"NOTE old").hexdigest())
        self.assertFalse(entry._verify(), "a purged entry still verifies through its chain")

    def test_client_sees_only_own_archive(self):
        mine = self.intake(("b.txt", b"NOTE b"), company=self.client_b, process=False).archive_entry_id
        other = self.intake(("a.txt", b"NOTE a"), company=self.client_a, process=False).archive_entry_id
        visible = (
            self.env["heeros.link.archive.entry"]
            .with_user(self.user_b)
            .with_context(allowed_company_ids=self.client_b.ids)
            .search([])
        )
        self.assertIn(mine, visible)
        self.assertNotIn(other, visible)
