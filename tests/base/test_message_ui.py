"""What people read on messages and what actions report: sizes, records by
name, readable detection errors, summaries of Fetch now and Reprocess, the
connection test in the chatter, uploads landing under the right company."""

import os
from pathlib import Path

from odoo.addons.heeros_link_base.formats import filekind
from odoo.addons.heeros_link_base.models.link_message_ui import format_size

from .common import LinkCase


class TestReadable(LinkCase):
    def test_sizes(self):
        self.assertEqual(format_size(self.env, 68), "68 bytes")
        self.assertEqual(format_size(self.env, 12_345), "12.3 kB")
        self.assertEqual(format_size(self.env, 4_200_000), "4.2 MB")
        message = self.intake(("note.bin", b"x" * 2500))
        self.assertEqual(message.size_display, "2.5 kB")

    def test_detection_says_what_the_file_looks_like(self):
        cases = {
            b"%PDF-1.7\n...": "a PDF document",
            b"PK\x03\x04\x14\x00": "a ZIP archive",
            b"\x89PNG\r\n\x1a\n\x00": "a PNG image",
            b"\x1f\x8b\x08\x00": "a gzip-compressed file",
            "Tiliote päivältä 1.3.\n".encode("latin-1"): "text in Latin-1 starting with 'Tiliote päivältä 1.3.'",
            "Tiliote päivältä\n".encode(): "text in UTF-8 starting with 'Tiliote päivältä'",
            bytes(range(256)): "binary data of an unknown kind",
        }
        for data, expected in cases.items():
            with self.subTest(expected=expected):
                self.assertTrue(filekind.describe(data).startswith(expected), filekind.describe(data))
        message = self.intake(("scan.rar", b"Rar!\x1a\x07\x00" + bytes(range(200))))
        self.assertIn("unrecognised document: a RAR archive", message.error)
        self.assertNotIn("\\x", message.error, "no raw bytes")

    def test_records_named_not_model_names(self):
        partner = self.env["res.partner"].create({"name": "Produced Oy"})
        with self.registered_type(lambda msg: partner):
            message = self.intake(("n.txt", b"NOTE produce"))
        link = message.link_ids
        self.assertEqual(link.record_name, "Produced Oy")
        self.assertEqual(link.model_label, self.env["ir.model"]._get("res.partner").name)
        self.assertNotEqual(link.model_label, "res.partner")


class TestActionsReport(LinkCase):
    def test_reprocess_summarises_in_notification_and_chatter(self):
        message = self.intake(("letter.txt", b"NOTE hello"))
        self.assertEqual(message.state, "error")
        partner = self.env["res.partner"].create({"name": "Fixed"})
        with self.registered_type(lambda msg: partner):
            action = message.with_user(self.user_bureau).action_reprocess()
        self.assertEqual(message.state, "processed")
        params = action["params"]
        self.assertTrue(params["sticky"])
        self.assertEqual(params["type"], "success")
        self.assertIn("1 processed", params["message"])
        self.assertIn("0 in error", params["message"])
        self.assertIn("Processed", message.message_ids[0].body)

    def test_reprocess_still_failing_says_so(self):
        message = self.intake(("letter.txt", b"NOTE hello"))
        action = message.action_reprocess()
        self.assertEqual(action["params"]["type"], "danger")
        self.assertIn("1 in error", action["params"]["message"])
        self.assertIn("unrecognised document", message.message_ids[0].body)

    def test_fetch_now_summarises(self):
        inbox = Path(self.tmp) / "inbox"
        inbox.mkdir(exist_ok=True)
        (inbox / "a.txt").write_bytes(b"NOTE one")
        (inbox / "b.bin").write_bytes(b"\x00\x01junk")
        with self.registered_type(lambda msg: self.env["res.partner"].create({"name": "From fetch"})):
            action = self.connection.action_fetch_now()
        text = action["params"]["message"]
        self.assertIn("2 file(s) fetched", text)
        self.assertIn("1 processed", text)
        self.assertIn("1 in error", text)
        self.assertEqual(action["params"]["type"], "danger")
        self.assertTrue(action["params"]["sticky"])
        self.assertEqual(action["params"]["next"]["res_model"], self.Message._name)
        self.assertIn("2 file(s) fetched", self.connection.message_ids[0].body)
        self.assertFalse({"a.txt", "b.bin"} & set(os.listdir(inbox)), "both files were taken")

    def test_connection_test_in_chatter(self):
        action = self.connection.action_test_connection()
        self.assertEqual(action["params"]["type"], "success")
        self.assertIn("Connection works", self.connection.message_ids[0].body)
        self.connection.local_root = False
        self.connection.action_test_connection()
        self.assertIn("failed", self.connection.message_ids[0].body)
