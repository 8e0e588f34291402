"""The bank and payment endpoints of the integration API over real HTTP:
statements, their lines and original files, latest balances, unmatched
reference payments, payment batches with the bank's feedback, each company
seeing only its own; the bank events announced to webhooks."""

import hashlib
import json

from odoo import Command
from tests.api_common import ApiCase, api_key
from tests.bank.common import IBAN_A, IBAN_B, camt, entry, fi_ref, statement

STATEMENT_PATHS = ("/bank/statements/{id}", "/bank/statements/{id}/lines", "/bank/statements/{id}/file")


class TestBankApi(ApiCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        Company = cls.env["res.company"]
        fi, eur = cls.env.ref("base.fi"), cls.env.ref("base.EUR")
        cls.own = Company.create({"name": "API Pankki A Oy", "country_id": fi.id, "currency_id": eur.id})
        cls.other = Company.create({"name": "API Pankki B Oy", "country_id": fi.id, "currency_id": eur.id})
        cls.env.user.company_ids |= cls.own | cls.other
        Journal = cls.env["account.journal"]
        journals = {}
        for company, iban in ((cls.own, IBAN_A), (cls.other, IBAN_B)):
            cls.env["account.chart.template"].try_loading("fi", company, install_demo=False)
            journal = Journal.search([("company_id", "=", company.id), ("type", "=", "bank")], limit=1)
            journal.bank_acc_number = iban
            journals[company] = journal
        cls.journal, cls.other_journal = journals[cls.own], journals[cls.other]
        accounting = "heeros_link_base.group_link_user,account.group_account_manager"
        cls.user = cls.new_user("bank-api-user", cls.own, groups=accounting)
        cls.link_only = cls.new_user("bank-api-link-only", cls.own)
        cls.key = api_key(cls.user)
        cls.file_own = camt(
            "camt.053",
            [
                statement(
                    IBAN_A,
                    [
                        entry(100, "API-ARCH-1", text="Lasku 1", name="Asiakas"),
                        entry(25, "API-ARCH-2", ref=fi_ref(7777), name="Tuntematon"),
                    ],
                    opening=1000,
                    available=1500,
                )
            ],
            msg_id="API-STMT-A",
        )
        cls.file_other = camt(
            "camt.053",
            [statement(IBAN_B, [entry(50, "API-ARCH-3", text="Vieras")], opening=10)],
            msg_id="API-STMT-B",
        )
        Message = cls.env["heeros.link.message"]
        cls.message = Message.with_company(cls.own)._link_intake([("a.xml", cls.file_own)], company=cls.own)
        cls.other_message = Message.with_company(cls.other)._link_intake([("b.xml", cls.file_other)], company=cls.other)
        assert cls.message.state == "processed", cls.message.error
        assert cls.other_message.state == "processed", cls.other_message.error
        Statement = cls.env["account.bank.statement"]
        cls.statement = Statement.search([("heeros_link_bank_message_id", "=", cls.message.id)])
        cls.other_statement = Statement.search([("heeros_link_bank_message_id", "=", cls.other_message.id)])
        Batch = cls.env["heeros.link.payment.batch"]
        cls.batch = Batch.create({"journal_id": cls.journal.id, "company_id": cls.own.id})
        cls.other_batch = Batch.create({"journal_id": cls.other_journal.id, "company_id": cls.other.id})
        for batch in (cls.batch, cls.other_batch):
            batch.write(
                {
                    "line_ids": [
                        Command.create(
                            {"creditor_name": "Toimittaja Oy", "iban": "FI2112345600000785", "amount": 120.0}
                        )
                    ]
                }
            )
        cls.batch.line_ids.sudo().write({"status_code": "RJCT", "reason_code": "AC04", "reason_text": "Closed"})
        cls.env.flush_all()

    def pages(self, path, key=None, **params):
        items, cursor = [], None
        while True:
            page = self.api(
                "GET", path, key=key or self.key, params={**params, "limit": 2, "cursor": cursor}, expect=200
            ).json()
            items += page["data"]
            cursor = page["next_cursor"]
            if not cursor:
                return items

    def test_statements_lines_and_the_original_file(self):
        statements = self.pages("/bank/statements")
        self.assertIn(self.statement.id, [s["id"] for s in statements])
        body = self.api("GET", f"/bank/statements/{self.statement.id}", key=self.key, expect=200).json()
        self.assertEqual(
            (body["journal_id"], body["iban"], body["message_id"]), (self.journal.id, IBAN_A, self.message.id)
        )
        self.assertEqual((body["balance_start"], body["balance_end"], body["line_count"]), (1000, 1125, 2))
        lines = self.pages(f"/bank/statements/{self.statement.id}/lines")
        self.assertEqual([line["amount"] for line in lines], [100, 25])
        self.assertEqual(lines[1]["reference"], fi_ref(7777))
        self.assertEqual(lines[0]["archive_id"], "API-ARCH-1")
        response = self.api("GET", f"/bank/statements/{self.statement.id}/file", key=self.key, expect=200)
        self.assertEqual(response.content, self.file_own)
        self.assertEqual(response.headers["X-Content-SHA256"], hashlib.sha256(self.file_own).hexdigest())
        self.assertEqual(self.pages("/bank/statements", journal=self.journal.id, date_from="2024-03-05"), [])

    def test_balances_and_unmatched_reference_payments(self):
        balances = self.pages("/bank/balances")
        self.assertEqual([b["journal_id"] for b in balances], [self.journal.id])
        self.assertEqual((balances[0]["booked_amount"], balances[0]["available_amount"]), (1125, 1500))
        self.assertEqual(balances[0]["message_id"], self.message.id)
        unmatched = self.pages("/bank/unmatched-payments")
        self.assertEqual(
            [(u["reference"], u["amount"], u["match_state"]) for u in unmatched], [(fi_ref(7777), 25, "unmatched")]
        )

    def test_payment_batches_with_feedback_per_payment(self):
        batches = self.pages("/payments/batches")
        self.assertEqual([b["id"] for b in batches], [self.batch.id])
        body = self.api("GET", f"/payments/batches/{self.batch.id}", key=self.key, expect=200).json()
        self.assertEqual(body["state"], "draft")
        payment = body["payments"][0]
        self.assertEqual((payment["status_code"], payment["reason_code"], payment["amount"]), ("RJCT", "AC04", 120))
        self.assertEqual(self.pages("/payments/batches", state="sent"), [])

    def test_another_companys_bank_data_is_never_seen(self):
        for path in ("/bank/statements", "/bank/balances", "/bank/unmatched-payments", "/payments/batches"):
            ids = [item["id"] for item in self.pages(path)]
            foreign = {
                "/bank/statements": self.other_statement.ids,
                "/bank/balances": self.env["heeros.link.bank.balance"].search([("company_id", "=", self.other.id)]).ids,
                "/bank/unmatched-payments": self.other_statement.line_ids.ids,
                "/payments/batches": self.other_batch.ids,
            }[path]
            self.assertTrue(foreign, path)
            self.assertFalse(set(ids) & set(foreign), path)
            self.api("GET", path, key=self.key, params={"company": self.other.id}, expect=403)
        for template in STATEMENT_PATHS:
            path = template.format(id=self.other_statement.id)
            response = self.api("GET", path, key=self.key, expect=403)
            self.assertNotIn(b"Vieras", response.content, path)
        self.api("GET", f"/payments/batches/{self.other_batch.id}", key=self.key, expect=403)

    def test_a_link_user_without_accounting_rights_is_refused(self):
        key = api_key(self.link_only)
        self.api("GET", "/bank/statements", key=key, expect=403)
        self.api("GET", f"/bank/statements/{self.statement.id}/file", key=key, expect=403)

    def test_statement_and_balance_events_for_webhooks(self):
        Event = self.env["heeros.link.webhook.event"]
        webhook = self.env["heeros.link.webhook"].create(
            {
                "name": "Treasury",
                "url": "https://treasury.example/hook",
                "company_id": self.own.id,
                "event_ids": [
                    Command.set(Event.search([("code", "in", ["statement.imported", "balance.updated"])]).ids)
                ],
            }
        )
        data = camt(
            "camt.053",
            [statement(IBAN_A, [entry(7, "API-ARCH-9", text="Uusi")], opening=1125, day="2024-03-05")],
            msg_id="API-STMT-C",
        )
        message = (
            self.env["heeros.link.message"].with_company(self.own)._link_intake([("c.xml", data)], company=self.own)
        )
        self.assertEqual(message.state, "processed", message.error)
        deliveries = webhook.delivery_ids.sorted("id")
        self.assertEqual(sorted(deliveries.mapped("event")), ["balance.updated", "statement.imported"])
        bodies = {d.event: json.loads(d.body) for d in deliveries}
        self.assertEqual(bodies["statement.imported"]["data"]["message_id"], message.id)
        self.assertEqual(bodies["balance.updated"]["data"]["balance"]["booked_amount"], 1132)
        # the same file again is a duplicate: nothing is announced
        self.env["heeros.link.message"].with_company(self.own)._link_intake([("c2.xml", data)], company=self.own)
        self.assertEqual(len(webhook.delivery_ids), 2)
