"""The archive in the database itself: triggers refuse changes, and
verification finds what someone got past them (bytes on disk, a row in SQL,
the order, the newest entries removed)."""

import glob
import hashlib
import json
import os

import psycopg2

from odoo import fields
from odoo.exceptions import UserError
from odoo.tools import mute_logger
from tests.archive.common import ArchiveCase


class TestDatabaseGuard(ArchiveCase):
    def assert_sql_refused(self, query, params):
        self.env.flush_all()
        with mute_logger("odoo.sql_db"), self.assertRaises(psycopg2.Error) as caught, self.env.cr.savepoint():
            self.env.cr.execute(query, params)
        self.assertIn("heeros_link_archive", str(caught.exception))

    def test_sql_update_and_delete_of_entries_fail(self):
        entry = self.archive(self.client_a)
        for column, value in (
            ("sha256", "0" * 64),
            ("chain_hash", "0" * 64),
            ("file_name", "x.txt"),
            ("retain_until", "2000-12-31"),
            ("purged", True),
            ("attachment_id", None),
            ("company_id", self.client_b.id),
            ("amount", 1),
        ):
            with self.subTest(column=column):
                self.assert_sql_refused(
                    f"UPDATE heeros_link_archive_entry SET {column} = %s WHERE id = %s", [value, entry.id]
                )
        self.assert_sql_refused("DELETE FROM heeros_link_archive_entry WHERE id = %s", [entry.id])
        # the hold is the one column that changes, and only through the Archive manager's action
        self.env.cr.execute("UPDATE heeros_link_archive_entry SET legal_hold = true WHERE id = %s", [entry.id])

    def test_sql_changes_of_archived_files_fail(self):
        entry = self.archive(self.client_a)
        attachment = entry.attachment_id
        for column, value in (
            ("checksum", "0" * 40),
            ("res_id", 0),
            ("res_model", "res.partner"),
            ("file_size", 1),
            ("company_id", self.client_b.id),
        ):
            with self.subTest(column=column):
                self.assert_sql_refused(f"UPDATE ir_attachment SET {column} = %s WHERE id = %s", [value, attachment.id])
        self.assert_sql_refused("DELETE FROM ir_attachment WHERE id = %s", [attachment.id])

    def test_checkpoints_and_runs_are_append_only_in_sql(self):
        self.archive(self.client_a)
        checkpoint = self.Checkpoint._heeros_link_take(self.client_a)
        run = self.Verification._heeros_link_run(self.client_a)
        self.assert_sql_refused(
            "UPDATE heeros_link_archive_checkpoint SET entry_count = 0 WHERE id = %s", [checkpoint.id]
        )
        self.assert_sql_refused("DELETE FROM heeros_link_archive_checkpoint WHERE id = %s", [checkpoint.id])
        self.assert_sql_refused("UPDATE heeros_link_archive_verification SET result = 'ok' WHERE id = %s", [run.id])

    def test_no_context_key_and_no_sudo_relaxes_the_orm(self):
        entry = self.old(self.client_a)
        for key in (
            "heeros_link_archive_purge",
            "heeros_link_archive_maintenance",
            "install_mode",
            "module",
            "heeros_link_archive.disposal",
        ):
            target = entry.sudo().with_context(**{key: True})
            with self.subTest(key=key):
                with self.assertRaises(UserError):
                    target.write({"purged": True, "attachment_id": False})
                with self.assertRaises(UserError):
                    target.attachment_id.unlink()
                with self.assertRaises(UserError):
                    target.unlink()
        self.assertFalse(entry.purged)


class TestTamperingDetected(ArchiveCase):
    def chain(self, company, count=4):
        return self.Entry.browse([self.archive(company, name=f"d{n}.txt").id for n in range(count)])

    def test_bytes_changed_on_disk(self):
        entries = self.chain(self.client_a, 3)
        victim = entries[1]
        path = victim.attachment_id._full_path(victim.attachment_id.store_fname)
        with open(path, "rb") as stored:
            original = stored.read()
        self.addCleanup(self._restore, path, original)
        with open(path, "wb") as stored:
            stored.write(b"forged on disk")
        faults = self.faults(self.client_a)
        self.assertEqual([(f["entry"], f["check"]) for f in faults], [(victim.id, "bytes")])
        os.remove(path)
        self.assertIn("missing", self.faults(self.client_a)[0]["detail"])

    @staticmethod
    def _restore(path, data):
        with open(path, "wb") as stored:
            stored.write(data)

    def test_row_changed_in_sql(self):
        entries = self.chain(self.client_b, 3)
        with self.guard_disabled() as cr:
            cr.execute("UPDATE heeros_link_archive_entry SET document_number = 'X-1' WHERE id = %s", [entries[1].id])
        self.assertEqual({(f["entry"], f["check"]) for f in self.faults(self.client_b)}, {(entries[1].id, "chain")})
        run = self.Verification._heeros_link_run(self.client_b)
        self.assertEqual(run.result, "fault")
        self.assertEqual(json.loads(run.report)["faults"][0]["entry"], entries[1].id)

    def test_order_changed(self):
        entries = self.chain(self.client_b, 4)
        first, second = entries[1], entries[2]
        columns = "sha256, chain_hash, file_name, archived_on, attachment_id"
        with self.guard_disabled() as cr:
            cr.execute(f"SELECT id, {columns} FROM heeros_link_archive_entry WHERE id IN %s", [(first.id, second.id)])
            rows = {row[0]: row[1:] for row in cr.fetchall()}
            for target, source in ((first.id, second.id), (second.id, first.id)):
                cr.execute(
                    "UPDATE heeros_link_archive_entry SET sha256 = %s, chain_hash = %s, file_name = %s, "
                    "archived_on = %s, attachment_id = %s WHERE id = %s",
                    [*rows[source], target],
                )
        faults = self.faults(self.client_b)
        self.assertTrue(faults)
        self.assertEqual({f["check"] for f in faults}, {"chain"})
        self.assertIn(first.id, {f["entry"] for f in faults})

    def test_newest_entries_removed_against_the_checkpoint(self):
        entries = self.chain(self.client_a, 4)
        self.Checkpoint._heeros_link_take(self.client_a)
        self.assertFalse(self.faults(self.client_a))
        with self.guard_disabled() as cr:
            cr.execute("DELETE FROM heeros_link_archive_entry WHERE id IN %s", [tuple(entries[-2:].ids)])
        faults = self.faults(self.client_a)
        self.assertEqual([f["check"] for f in faults], ["checkpoint"])
        self.assertIn("removed", faults[0]["detail"])

    def test_chain_rewritten_consistently_is_caught_by_the_checkpoint(self):
        entries = self.chain(self.client_a, 3)
        self.Checkpoint._heeros_link_take(self.client_a)
        head, before = entries[-1], entries[-2]
        forged = b"NOTE forged but consistent"
        attachment = self.env["ir.attachment"].sudo().create({"name": "f.txt", "raw": forged})
        digest = hashlib.sha256(forged).hexdigest()
        metadata = {name: head[name] for name in self.Entry._CHAINED}
        metadata = {k: (v.id if hasattr(v, "_name") else v) for k, v in metadata.items()}
        metadata["size"] = len(forged)
        chain_hash = self.Entry._chain(
            before.chain_hash,
            digest,
            head.company_id.id,
            head.file_name,
            fields.Datetime.to_string(head.archived_on),
            self.Entry._chain_metadata(metadata),
        )
        with self.guard_disabled() as cr:
            cr.execute(
                "UPDATE heeros_link_archive_entry SET sha256 = %s, size = %s, chain_hash = %s, "
                "attachment_id = %s WHERE id = %s",
                [digest, len(forged), chain_hash, attachment.id, head.id],
            )
        faults = self.faults(self.client_a)
        self.assertEqual([f["check"] for f in faults], ["checkpoint"], faults)
        self.assertIn("rewritten", faults[0]["detail"])


class TestCheckpoints(ArchiveCase):
    def test_checkpoint_in_table_chatter_and_through_a_connection(self):
        self.client_a.heeros_link_archive_checkpoint_connection_id = self.connection
        entries = self.Entry.browse([self.archive(self.client_a).id for _n in range(2)])
        first = self.Checkpoint._heeros_link_take(self.client_a)
        self.assertEqual(
            (first.head_entry_id, first.head_hash, first.entry_count), (entries[-1].id, entries[-1].chain_hash, 2)
        )
        second = self.Checkpoint._heeros_link_take(self.client_a)
        self.assertEqual(second.previous_hash, first.checkpoint_hash, "checkpoints chain too")
        bodies = self.client_a.partner_id.message_ids.mapped("body")
        self.assertTrue(any(second.checkpoint_hash in body for body in bodies))
        exported = glob.glob(os.path.join(self.tmp, "**", second.exported), recursive=True)
        self.assertEqual(len(exported), 1, second.exported)
        with open(exported[0], encoding="utf-8") as handle:
            data = json.load(handle)
        self.assertEqual((data["head_hash"], data["checkpoint_hash"]), (entries[-1].chain_hash, second.checkpoint_hash))
        cron = self.Checkpoint._cron_checkpoint()
        self.assertIn(self.client_a, cron.company_id)
