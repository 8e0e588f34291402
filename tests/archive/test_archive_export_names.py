"""The auditor export never uses a document's file name, as received, as a
ZIP member name."""

import io
import json
import posixpath
import zipfile

from odoo.addons.heeros_link_base.channels.names import is_safe_name
from tests.base.common import LinkCase

HOSTILE = [
    "../../../../tmp/evil.xml",
    "/etc/cron.d/evil",
    "..\\..\\evil.bat",
    "new\nline.xml",
    "z" * 300 + ".xml",
    "....",
    ".bashrc",
]


class TestExportNames(LinkCase):
    def test_every_member_name_is_safe_and_the_original_names_are_kept(self):
        messages = self.Message
        for number, name in enumerate(HOSTILE):
            message = self.intake((name, f"NOTE {number}".encode()), process=False)
            message._set_state("processing")
            message._set_state("processed")
            messages |= message
        entries = messages.archive_entry_id
        self.assertEqual(
            sorted(entries.mapped("file_name")), sorted(HOSTILE), "the archive keeps the names as they came"
        )
        with zipfile.ZipFile(io.BytesIO(entries._export_zip())) as archive:
            members = archive.namelist()
            manifest = json.loads(archive.read("manifest.json"))
            documents = [
                m
                for m in members
                if m
                not in ("index.csv", "manifest.json", "checkpoints.json", "checkpoint_public_key.pem", "README.txt")
            ]
            self.assertEqual(len(documents), len(HOSTILE))
            for member in documents:
                with self.subTest(member=member):
                    self.assertFalse(member.startswith("/"))
                    self.assertEqual(posixpath.normpath(member), member)
                    parts = member.split("/")
                    self.assertEqual(len(parts), 2, "company folder, then the document")
                    self.assertNotIn("..", parts)
                    self.assertTrue(all(is_safe_name(part) for part in parts), member)
            self.assertEqual(sorted(row["file_name"] for row in manifest), sorted(HOSTILE))
            for row in manifest:
                self.assertEqual(archive.read(row["file"]), entries.browse(row["id"]).attachment_id.raw)
