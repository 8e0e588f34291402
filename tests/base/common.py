"""Shared set-up of the Link core tests: companies, users, a folder connection
and a way to register a document type for the duration of a test."""

import shutil
from contextlib import contextmanager
from unittest.mock import patch

from odoo.addons.heeros_link_base.registry import DocumentType
from odoo.tests.common import TransactionCase, new_test_user
from tests.common import link_folder


def note_detector(sniff):
    return sniff.head.startswith(b"NOTE ")


class LinkCase(TransactionCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env = cls.env(context=dict(cls.env.context, tracking_disable=True))
        Company = cls.env["res.company"]
        cls.bureau = Company.create({"name": "Tilitoimisto Testi Oy"})
        cls.client_a = Company.create({"name": "Asiakas A Oy"})
        cls.client_b = Company.create({"name": "Asiakas B Oy"})
        cls.Message = cls.env["heeros.link.message"]
        # the crons' own work, as without job workers (queue_job may be installed)
        cls.env["ir.config_parameter"].sudo().set_param("heeros_link.job_workers", "off")
        cls.tmp = link_folder(cls.env, "heeros-link-test-")
        cls.addClassCleanup(shutil.rmtree, cls.tmp, True)
        cls.connection = cls.env["heeros.link.connection"].create(
            {
                "name": "Bureau folder",
                "protocol": "local",
                "local_root": cls.tmp,
                "company_id": cls.bureau.id,
                "company_ids": [(6, 0, (cls.bureau | cls.client_a | cls.client_b).ids)],
                "max_attempts": 3,
                "retry_delay": 5,
            }
        )
        cls.user_bureau = new_test_user(
            cls.env,
            "bureau-op",
            groups="heeros_link_base.group_link_manager",
            company_id=cls.bureau.id,
            company_ids=[(6, 0, (cls.bureau | cls.client_a | cls.client_b).ids)],
        )
        cls.user_a = new_test_user(
            cls.env,
            "client-a",
            groups="heeros_link_base.group_link_manager",
            company_id=cls.client_a.id,
            company_ids=[(6, 0, cls.client_a.ids)],
        )
        cls.user_b = new_test_user(
            cls.env,
            "client-b",
            groups="heeros_link_base.group_link_user",
            company_id=cls.client_b.id,
            company_ids=[(6, 0, cls.client_b.ids)],
        )

    @contextmanager
    def registered_type(self, handler, code="test.note", detect=note_detector):
        """Register a document type whose handler is ``handler(message)``."""
        MessageClass = type(self.env["heeros.link.message"])
        original = MessageClass._link_document_types

        def document_types(model):
            types = original(model)
            types[code] = DocumentType(
                code=code, label="Test note", detect=detect, handler=("heeros.link.message", "_test_handle")
            )
            return types

        with (
            patch.object(MessageClass, "_link_document_types", document_types),
            patch.object(MessageClass, "_test_handle", lambda model, message: handler(message), create=True),
        ):
            yield

    def intake(self, *files, **kwargs):
        kwargs.setdefault("company", self.bureau)
        return self.Message._link_intake(list(files), **kwargs)
