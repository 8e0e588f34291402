"""The e-invoice endpoints of the integration API over real HTTP: received
vendor bills with their original files, sales invoices with the delivery
state of their e-invoices, each company seeing only its own; the invoice
events announced to webhooks."""

import json
import shutil

from odoo import Command, fields
from tests.api_common import ApiCase, api_key
from tests.common import SHARED_DATA, link_folder

SAMPLES = SHARED_DATA / "einvoice" / "samples"
OWN_FILE = SAMPLES / "gobl-fi-finvoice/examples-out/invoice.xml"  # buyer FI01120389
OTHER_FILE = SAMPLES / "maventa/anon_finvoice_20_invoice_with_MessageTransmissionDetails.xml"  # buyer FI12345678


class TestEInvoiceApi(ApiCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # the anonymised samples carry business ids without a valid check digit
        cls.env = env = cls.env(context=dict(cls.env.context, no_vat_validation=True))
        fi, eur = env.ref("base.fi"), env.ref("base.EUR")
        Company = env["res.company"]
        cls.own = Company.create(
            {"name": "Kotipizza Oyj", "country_id": fi.id, "vat": "FI01120389", "currency_id": eur.id}
        )
        cls.other = Company.create(
            {"name": "Ostaja Oy", "country_id": fi.id, "vat": "FI12345678", "currency_id": eur.id}
        )
        env.user.company_ids |= cls.own | cls.other
        for company in (cls.own, cls.other):
            env["account.chart.template"].try_loading("fi", company, install_demo=False)
        cls.env = env = cls.env(context=dict(cls.env.context, allowed_company_ids=(cls.own | cls.other).ids))
        cls.tmp = link_folder(env, "heeros-link-api-einvoice-")
        cls.addClassCleanup(shutil.rmtree, cls.tmp, True)
        cls.connection = env["heeros.link.connection"].create(
            {
                "name": "Operator",
                "protocol": "local",
                "local_root": cls.tmp,
                "direction": "both",
                "company_id": cls.own.id,
                "company_ids": [Command.set((cls.own | cls.other).ids)],
            }
        )
        Message = env["heeros.link.message"]
        cls.own_data, cls.other_data = OWN_FILE.read_bytes(), OTHER_FILE.read_bytes()
        cls.received = Message._link_intake([("own.xml", cls.own_data)], connection=cls.connection)
        cls.other_received = Message._link_intake([("other.xml", cls.other_data)], connection=cls.connection)
        Move = env["account.move"]
        cls.bill = Move.search([("heeros_link_in_message_id", "=", cls.received.id)])
        cls.other_bill = Move.search([("heeros_link_in_message_id", "=", cls.other_received.id)])
        assert cls.bill.company_id == cls.own, cls.received.error
        assert cls.other_bill.company_id == cls.other, cls.other_received.error
        customer = env["res.partner"].create({"name": "Asiakas Oy", "is_company": True})
        cls.invoices = {}
        for company in (cls.own, cls.other):
            invoice = Move.with_company(company).create(
                {
                    "move_type": "out_invoice",
                    "company_id": company.id,
                    "partner_id": customer.id,
                    "invoice_date": fields.Date.today(),
                    "invoice_line_ids": [
                        Command.create(
                            {"name": "Palvelu", "quantity": 1, "price_unit": 80, "tax_ids": [Command.clear()]}
                        )
                    ],
                }
            )
            invoice.action_post()
            cls.invoices[company] = invoice
        cls.user = cls.new_user(
            "einvoice-api-user", cls.own, groups="heeros_link_base.group_link_user,account.group_account_manager"
        )
        cls.key = api_key(cls.user)
        env.flush_all()

    def send(self, invoice):
        """Queue the invoice's e-invoice as the send pipeline does."""
        message = self.env["heeros.link.message"]._link_queue(
            "finvoice", f"{invoice.name}.xml", b"<Finvoice/>", invoice.company_id, connection=self.connection
        )
        invoice.sudo().heeros_link_message_id = message
        return message

    def pages(self, path, **params):
        items, cursor = [], None
        while True:
            page = self.api("GET", path, key=self.key, params={**params, "limit": 1, "cursor": cursor}, expect=200)
            page = page.json()
            items += page["data"]
            cursor = page["next_cursor"]
            if not cursor:
                return items

    def test_received_bills_with_their_original_files(self):
        bills = self.pages("/einvoices/bills")
        self.assertEqual([b["id"] for b in bills], self.bill.ids)
        body = self.api("GET", f"/einvoices/bills/{self.bill.id}", key=self.key, expect=200).json()
        self.assertEqual((body["received_message_id"], body["received_format"]), (self.received.id, "finvoice"))
        self.assertEqual(body["amount_total"], self.bill.amount_total)
        response = self.api("GET", f"/einvoices/bills/{self.bill.id}/file", key=self.key, expect=200)
        self.assertEqual(response.content, self.own_data)
        # a sales invoice is no received bill
        self.api("GET", f"/einvoices/bills/{self.invoices[self.own].id}", key=self.key, expect=404)

    def test_delivery_state_of_sales_invoices_and_their_events(self):
        Event = self.env["heeros.link.webhook.event"]
        webhook = self.env["heeros.link.webhook"].create(
            {
                "name": "Billing",
                "url": "https://billing.example/hook",
                "company_id": self.own.id,
                "event_ids": [Command.set(Event.search([("code", "in", ["invoice.delivered", "invoice.failed"])]).ids)],
            }
        )
        invoice = self.invoices[self.own]
        sales = self.pages("/einvoices/sales")
        self.assertEqual([(s["id"], s["einvoice_state"]) for s in sales], [(invoice.id, None)])
        message = self.send(invoice)
        self.env.flush_all()
        self.assertEqual(self.pages("/einvoices/sales", einvoice_state="queued")[0]["id"], invoice.id)
        message._set_state("sending")
        message._set_state("sent")
        message._link_set_feedback(True, "Delivered to the receiver")
        self.env.flush_all()
        delivered = self.pages("/einvoices/sales", einvoice_state="delivered")
        self.assertEqual([s["id"] for s in delivered], [invoice.id])
        self.assertEqual(delivered[0]["einvoice_message_id"], message.id)
        other_message = self.send(self.invoices[self.other])
        other_message._set_state("error", error="Operator refused the address")
        failed = self.send(invoice)
        failed._set_state("error", error="Unknown e-invoice address")
        events = [(d.event, json.loads(d.body)["data"]["invoice"]["id"]) for d in webhook.delivery_ids.sorted("id")]
        self.assertEqual(events, [("invoice.delivered", invoice.id), ("invoice.failed", invoice.id)])

    def test_another_companys_invoices_are_never_seen(self):
        ids = [item["id"] for item in self.pages("/einvoices/sales") + self.pages("/einvoices/bills")]
        self.assertNotIn(self.other_bill.id, ids)
        self.assertNotIn(self.invoices[self.other].id, ids)
        for path in (f"/einvoices/bills/{self.other_bill.id}", f"/einvoices/bills/{self.other_bill.id}/file"):
            response = self.api("GET", path, key=self.key, expect=403)
            self.assertNotIn(b"BuyerOrganisationName", response.content)
        for path in ("/einvoices/sales", "/einvoices/bills"):
            self.api("GET", path, key=self.key, params={"company": self.other.id}, expect=403)
