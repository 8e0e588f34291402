"""Sending an invoice by Heeros Link from Send & Print in a real browser
(Odoo's tour runner on headless Chromium): the dialog proposes the Link for
a customer whose e-invoice address asks for Finvoice, and the invoice shows
its e-invoice queued as a Link message."""

from odoo import Command
from odoo.tests.common import HttpCase, new_test_user
from tests.einvoice.common import EinvoiceCase


class TestSendTour(HttpCase, EinvoiceCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.bookkeeper = new_test_user(
            cls.env,
            "kirjanpitaja",
            password="kirjanpitaja-pw",
            groups="account.group_account_invoice,heeros_link_base.group_link_user",
            company_id=cls.company.id,
            company_ids=[Command.set(cls.company.ids)],
            lang="en_US",
        )
        customer = cls.env["res.partner"].create(
            {
                "name": "Selain Asiakas Oy",
                "is_company": True,
                "country_id": cls.env.ref("base.fi").id,
                "street": "Selaimenkatu 4",
                "zip": "00100",
                "city": "Helsinki",
                "company_registry": "1234567-1",
            }
        )
        cls.move = cls.make_invoice(partner=customer)
        # the address comes after the invoice: the dialog must still see it
        cls.env["heeros.link.einvoice.address"].create(
            {"partner_id": customer.id, "address": "003712345671", "operator_id": cls.maventa.id}
        )

    def test_send_by_heeros_link(self):
        self.start_tour(
            f"/odoo/action-account.action_move_out_invoice_type/{self.move.id}",
            "heeros_link_send_einvoice",
            login="kirjanpitaja",
            timeout=120,
        )
        message = self.move.heeros_link_message_id
        self.assertEqual((message.state, message.document_type), ("queued", "finvoice"))
        self.assertEqual(message.connection_id, self.connection)
