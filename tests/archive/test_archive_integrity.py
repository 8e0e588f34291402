"""The archive in the database itself: triggers refuse changes, and
verification finds what someone got past them (bytes on disk, a row in SQL,
the order, the newest entries removed)."""

import base64
import glob
import hashlib
import io
import json
import os
import zipfile
from contextlib import contextmanager

import psycopg2
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from odoo import fields
from odoo.addons.heeros_link_archive.models.archive_records import SIGNING_KEY_PARAM
from odoo.exceptions import AccessError, UserError
from odoo.tools import mute_logger
from tests.archive.common import ArchiveCase

APPEND_ONLY = "heeros_link_archive_append_only"


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


class TestSignedCheckpoints(ArchiveCase):
    """Checkpoints are signed with the archive's Ed25519 key: a checkpoint
    rewritten in SQL (its hash recomputed to stay consistent) or signed with
    another key is found, and the key is out of reach of Link managers."""

    def take(self):
        self.archive(self.client_a)
        checkpoint = self.Checkpoint._heeros_link_take(self.client_a)
        self.assertFalse(self.faults(self.client_a))
        return checkpoint

    @contextmanager
    def append_only_disabled(self):
        self.env.flush_all()
        self.env.cr.execute(f"ALTER TABLE heeros_link_archive_checkpoint DISABLE TRIGGER {APPEND_ONLY}")
        try:
            yield self.env.cr
        finally:
            self.env.cr.execute(f"ALTER TABLE heeros_link_archive_checkpoint ENABLE TRIGGER {APPEND_ONLY}")
            self.env.invalidate_all()

    def checkpoint_faults(self):
        return [f for f in self.faults(self.client_a) if f["check"] == "checkpoint"]

    def test_signature_verifies_with_the_exported_public_key(self):
        checkpoint = self.take()
        with zipfile.ZipFile(io.BytesIO(self.Entry.search([("company_id", "=", self.client_a.id)])._export_zip())) as z:
            pem = z.read("checkpoint_public_key.pem")
            (exported,) = json.loads(z.read("checkpoints.json"))
        public_key = serialization.load_pem_public_key(pem)
        self.assertEqual(exported["signature"], checkpoint.signature)
        self.assertEqual(exported["signed_text"], f"heeros-link-archive-checkpoint-v1|{checkpoint.checkpoint_hash}")
        public_key.verify(base64.b64decode(exported["signature"]), exported["signed_text"].encode())
        raw = public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        self.assertEqual(exported["key_id"], hashlib.sha256(raw).hexdigest()[:16])
        with self.assertRaises(InvalidSignature):
            public_key.verify(base64.b64decode(exported["signature"]), exported["signed_text"].encode() + b"x")
        # the signature is in the chatter too, and in the CLI's report
        bodies = self.client_a.partner_id.message_ids.mapped("body")
        self.assertTrue(any(checkpoint.signature in body for body in bodies))
        report = self.Verification._heeros_link_check(self.client_a.ids)
        self.assertEqual(report["companies"][0]["checkpoint"]["signature"], checkpoint.signature)

    def test_rewritten_checkpoint_with_its_hash_recomputed_is_found(self):
        """Someone below Odoo moves the checkpoint back to an older head and
        recomputes its hash: without the key, the signature gives it away."""
        first = self.archive(self.client_a)
        checkpoint = self.take()
        taken_on = fields.Datetime.to_string(checkpoint.taken_on)
        forged_hash = checkpoint._heeros_link_hash(
            checkpoint.previous_hash, self.client_a.id, first.id, first.chain_hash, 1, taken_on
        )
        with self.append_only_disabled() as cr:
            cr.execute(
                "UPDATE heeros_link_archive_checkpoint SET head_entry_id = %s, head_hash = %s, entry_count = 1, "
                "checkpoint_hash = %s WHERE id = %s",
                [first.id, first.chain_hash, forged_hash, checkpoint.id],
            )
        faults = self.checkpoint_faults()
        self.assertEqual(len(faults), 1, faults)
        self.assertIn("signature", faults[0]["detail"])

    def test_checkpoint_signed_with_another_key_is_found(self):
        checkpoint = self.take()
        other = Ed25519PrivateKey.generate()
        signature = base64.b64encode(
            other.sign(f"heeros-link-archive-checkpoint-v1|{checkpoint.checkpoint_hash}".encode())
        )
        raw = other.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        for key, detail in (
            (hashlib.sha256(raw).hexdigest()[:16], "another key"),
            (checkpoint.key_id, "does not match"),
        ):
            with self.subTest(key=key):
                with self.append_only_disabled() as cr:
                    cr.execute(
                        "UPDATE heeros_link_archive_checkpoint SET signature = %s, key_id = %s WHERE id = %s",
                        [signature.decode(), key, checkpoint.id],
                    )
                faults = self.checkpoint_faults()
                self.assertEqual(len(faults), 1, faults)
                self.assertIn(detail, faults[0]["detail"])

    def test_unsigned_checkpoint_is_found(self):
        checkpoint = self.take()
        with self.append_only_disabled() as cr:
            cr.execute("UPDATE heeros_link_archive_checkpoint SET signature = NULL WHERE id = %s", [checkpoint.id])
        faults = self.checkpoint_faults()
        self.assertEqual(len(faults), 1, faults)
        self.assertIn("not signed", faults[0]["detail"])

    def test_update_to_signed_checkpoints_signs_the_newest_at_once(self):
        import importlib.util
        from pathlib import Path

        import odoo.addons.heeros_link_archive as archive_addon

        checkpoint = self.take()
        with self.append_only_disabled() as cr:
            cr.execute("UPDATE heeros_link_archive_checkpoint SET signature = NULL WHERE id = %s", [checkpoint.id])
        self.assertEqual(len(self.checkpoint_faults()), 1, "the older version's checkpoint is unsigned")
        script = Path(archive_addon.__file__).parent / "migrations" / "18.0.2.1.0" / "post-migrate.py"
        spec = importlib.util.spec_from_file_location("heeros_link_archive_post_migrate", script)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        module.migrate(self.env.cr, "18.0.2.0.0")
        self.env.invalidate_all()
        self.assertEqual(self.checkpoint_faults(), [], "verification holds right after the update")
        newest = self.env["heeros.link.archive.checkpoint"]._heeros_link_latest(checkpoint.company_id)
        self.assertNotEqual(newest, checkpoint)
        self.assertTrue(newest.signature)
        self.assertEqual(newest.previous_hash, checkpoint.checkpoint_hash, "chained to the unsigned one")

    def test_signing_key_is_out_of_reach_of_link_and_archive_managers(self):
        self.take()
        for user in (self.user_a, self.archivist):
            Param = self.env["ir.config_parameter"].with_user(user)
            with self.subTest(user=user.login), self.assertRaises(AccessError):
                Param.get_param(SIGNING_KEY_PARAM)
            with self.subTest(user=user.login), self.assertRaises(AccessError):
                Param.search_read([("key", "=", SIGNING_KEY_PARAM)], ["value"])
        pem = self.env["ir.config_parameter"].sudo().get_param(SIGNING_KEY_PARAM)
        self.assertIn("PRIVATE KEY", pem)
