"""Shared set-up of the archive tests."""

import uuid
from contextlib import contextmanager
from datetime import date

from odoo.tests.common import new_test_user
from tests.base.common import LinkCase

ENTRY_GUARD = "heeros_link_archive_entry_guard"


class ArchiveCase(LinkCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.Entry = cls.env["heeros.link.archive.entry"]
        cls.Verification = cls.env["heeros.link.archive.verification"]
        cls.Checkpoint = cls.env["heeros.link.archive.checkpoint"]
        cls.archivist = new_test_user(
            cls.env,
            "archivist",
            groups="heeros_link_archive.group_archive_manager",
            company_id=cls.bureau.id,
            company_ids=[(6, 0, (cls.bureau | cls.client_a | cls.client_b).ids)],
        )

    def received(self, *files, **kwargs):
        """Files taken in and processed: their messages in their final state,
        as a handler leaves them (the payload is archived then)."""
        messages = self.intake(*files, process=False, **kwargs)
        for message in messages:
            message._set_state("processing")
            message._set_state("processed")
        return messages

    def sent(self, message):
        """An outbound ``message`` delivered: its final state."""
        message._set_state("sending")
        message._set_state("sent")
        return message

    def unique(self, text="NOTE"):
        return f"{text} {uuid.uuid4().hex}".encode()

    def archive(self, company, data=None, name="doc.txt", **metadata):
        """One entry archived directly (as by an action), with ``metadata``
        such as ``document_date``."""
        return self.Entry._heeros_link_archive(
            [
                {
                    "company": company,
                    "data": data if data is not None else self.unique(),
                    "file_name": name,
                    "mimetype": "text/plain",
                    "kind": "document",
                    "document_type": metadata.pop("document_type", "test"),
                    "metadata": metadata,
                }
            ]
        )

    def old(self, company, **kwargs):
        """An entry whose retention ended long ago."""
        return self.archive(company, document_date=date(2010, 5, 1), **kwargs)

    @contextmanager
    def guard_disabled(self):
        """Below every protection of Odoo: what someone with the database's
        owner role could do. Used to show that verification still finds it."""
        self.env.flush_all()
        self.env.cr.execute(f"ALTER TABLE heeros_link_archive_entry DISABLE TRIGGER {ENTRY_GUARD}")
        try:
            yield self.env.cr
        finally:
            self.env.cr.execute(f"ALTER TABLE heeros_link_archive_entry ENABLE TRIGGER {ENTRY_GUARD}")
            self.env.invalidate_all()

    def faults(self, company):
        return self.Verification._heeros_link_check(company.ids)["faults"]
