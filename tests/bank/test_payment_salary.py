"""Salary batches: from a salary list (CSV) and from a payroll system's own
pain.001 received through the Link, and what an ordinary Link user sees of
them (nothing) through real JSON-RPC."""

import base64
import json
from datetime import date
from decimal import Decimal

from odoo.addons.heeros_link_bank.formats import pain001, salary_csv
from odoo.addons.heeros_link_base.formats.errors import RecordError
from odoo.exceptions import AccessError, UserError
from tests.bank.payment_common import BIC_FI, IBAN_COMPANY, IBAN_DE, IBAN_FI, PaymentCase, PaymentHttpCase

SALARY_IBAN = "FI5810171000000122"
CSV = (
    "name;iban;amount;date;message\n"
    f"Maija Meikäläinen;{IBAN_FI};2 450,00;2026-12-15;Palkka 12/2026\n"
    f"Matti Virtanen;{SALARY_IBAN};3100.55;15.12.2026;\n"
).encode()


def payroll_file(message_id="PAYROLL-2026-12", purpose="SALA", debtor_iban=IBAN_COMPANY, version="09"):
    """A payroll system's pain.001, written with the format module."""
    return pain001.build(
        pain001.Document(
            message_id=message_id,
            created=pain001.datetime(2026, 12, 10, 8, 0, 0),
            initiating_party=pain001.Party(name="Palkkajärjestelmä"),
            version=version,
            infos=[
                pain001.PaymentInfo(
                    payment_info_id=f"{message_id}-1",
                    execution_date=date(2026, 12, 15),
                    debtor=pain001.Party(name="Maksutesti Oy", iban=debtor_iban, bic=BIC_FI),
                    category_purpose=purpose,
                    batch_booking=True,
                    payments=[
                        pain001.Payment(
                            end_to_end_id=f"{message_id}-E{n}",
                            amount=Decimal(amount),
                            currency="EUR",
                            creditor=pain001.Party(name=name, iban=iban),
                            purpose=purpose,
                            message="Palkka 12/2026",
                        )
                        for n, (name, iban, amount) in enumerate(
                            [("Maija Meikäläinen", IBAN_FI, "2450.00"), ("Matti Virtanen", SALARY_IBAN, "3100.55")], 1
                        )
                    ],
                )
            ],
        )
    )


class TestSalaryList(PaymentCase):
    def test_format(self):
        rows = salary_csv.parse(CSV, "palkat.csv")
        self.assertEqual(
            [(r.line, r.name, r.iban, r.amount, r.pay_date) for r in rows],
            [
                (2, "Maija Meikäläinen", IBAN_FI, Decimal("2450.00"), date(2026, 12, 15)),
                (3, "Matti Virtanen", SALARY_IBAN, Decimal("3100.55"), date(2026, 12, 15)),
            ],
        )
        self.assertEqual(rows[0].message, "Palkka 12/2026")
        self.assertIsNone(rows[1].message)
        finnish = "nimi,tilinumero,summa,päivä\n".encode("cp1252") + f"Åsa,{IBAN_FI},10,2026-12-15\n".encode("cp1252")
        self.assertEqual(salary_csv.parse(finnish)[0].name, "Åsa")
        for data, where in (
            (b"name;iban;amount\nx;FI2112345600000785;1\n", "line 1"),
            (b"name;iban;amount;date\nX;FI2112345600000786;1;2026-12-15\n", "line 2, element iban"),
            (f"name;iban;amount;date\nX;{IBAN_FI};-5;2026-12-15\n".encode(), "line 2, element amount"),
            (f"name;iban;amount;date\nX;{IBAN_FI};1,234;2026-12-15\n".encode(), "line 2, element amount"),
            (f"name;iban;amount;date\nX;{IBAN_FI};1;31.02.2026\n".encode(), "line 2, element date"),
            (f"name;iban;amount;date\n;{IBAN_FI};1;2026-12-15\n".encode(), "line 2, element name"),
        ):
            with self.subTest(where=where), self.assertRaisesRegex(RecordError, f"palkat.csv, {where}"):
                salary_csv.parse(data, "palkat.csv")

    def test_salary_batch_from_a_list_is_sent_as_sala(self):
        self.env = self.env(user=self.payroll)
        wizard = self.env["heeros.link.salary.import"].create(
            {"journal_id": self.journal.id, "file": base64.b64encode(CSV), "file_name": "palkat.csv"}
        )
        action = wizard.action_import()
        batch = self.env["heeros.link.payment.batch"].browse(action["res_id"])
        self.assertEqual((batch.kind, batch.confidential, batch.batch_booking), ("salary", True, True))
        self.assertEqual(batch.execution_date, date(2026, 12, 15))
        self.assertEqual(batch.line_ids.mapped("creditor_name"), ["Maija Meikäläinen", "Matti Virtanen"])
        self.assertEqual(batch.amount_total, 5550.55)
        batch.action_approve()
        batch.action_send()
        message = batch.heeros_link_message_ids
        self.assertTrue(message.sudo().heeros_link_confidential)
        data = message.sudo()._payload()
        self.assertEqual(pain001.validate(data, "x.xml"), "09")
        doc = pain001.read(data, "x.xml", salary_only=True)
        self.assertEqual(doc.infos[0].category_purpose, "SALA")
        self.assertTrue(doc.infos[0].batch_booking)
        self.assertEqual([p.amount for p in doc.payments], [Decimal("2450.00"), Decimal("3100.55")])
        # nothing about the salaries in the chatter
        chatter = " ".join(batch.sudo().message_ids.mapped("body")) + " ".join(
            batch.sudo().message_ids.tracking_value_ids.mapped(lambda t: str(t.new_value_char or t.new_value_float))
        )
        for secret in ("Meikäläinen", "Virtanen", "2450", "2 450", "3100", IBAN_FI):
            self.assertNotIn(secret, chatter)

    def test_wrong_list_refused_naming_the_line(self):
        wizard = self.env["heeros.link.salary.import"].create(
            {
                "journal_id": self.journal.id,
                "file_name": "palkat.csv",
                "file": base64.b64encode(f"name;iban;amount;date\nX;{IBAN_FI};1;2026-13-01\n".encode()),
            }
        )
        with self.assertRaisesRegex(UserError, "palkat.csv, line 2, element date"):
            wizard.action_import()

    def test_salary_always_one_booking(self):
        batch = self.Batch.create({"journal_id": self.journal.id, "kind": "salary", "batch_booking": False})
        self.assertTrue(batch.batch_booking)


class TestPayrollFile(PaymentCase):
    def intake(self, data, name="palkat_12.xml"):
        return self.env["heeros.link.message"]._link_intake(
            [(name, data)], connection=self.connection, company=self.company
        )

    def test_payroll_file_imported_and_sent_unchanged(self):
        data = payroll_file()
        message = self.intake(data)
        self.assertEqual(message.state, "processed", message.error)
        self.assertEqual(message.document_type, "pain.001")
        self.assertTrue(message.heeros_link_confidential)
        batch = message._linked("heeros.link.payment.batch")
        self.assertEqual((batch.kind, batch.source, batch.confidential), ("salary", "payroll_file", True))
        self.assertEqual(batch.pain_message_id, "PAYROLL-2026-12")
        self.assertEqual(batch.journal_id, self.journal)
        self.assertEqual(batch.line_count, 2)
        self.assertEqual(batch.amount_total, 5550.55)
        self.assertEqual(batch.line_ids.mapped("end_to_end_id"), ["PAYROLL-2026-12-E1", "PAYROLL-2026-12-E2"])
        batch.action_approve()
        batch.action_send()
        out = batch.heeros_link_message_ids
        self.assertEqual(out._payload(), data, "sent on byte for byte")
        self.assertTrue(out.heeros_link_confidential)
        self.assertEqual(out.state, "queued")
        # the same file again creates nothing
        again = self.intake(data, "palkat_12_again.xml")
        self.assertEqual(again.state, "duplicate")

    def test_non_salary_file_refused(self):
        message = self.intake(payroll_file("SUPPLIERS-1", purpose=None))
        self.assertEqual(message.state, "error")
        self.assertIn("SALA", message.error)
        self.assertFalse(self.Batch.search([("pain_message_id", "=", "SUPPLIERS-1")]))
        self.assertTrue(message.heeros_link_confidential, "a pain.001 stays hidden even when refused")

    def test_file_of_an_unknown_account_refused(self):
        message = self.intake(payroll_file("OTHER-1", debtor_iban=IBAN_DE))
        self.assertEqual(message.state, "error")
        self.assertIn(IBAN_DE, message.error)

    def test_version_03_payroll_file(self):
        data = payroll_file("PAYROLL-03", version="03")
        message = self.intake(data)
        self.assertEqual(message.state, "processed", message.error)
        self.assertEqual(message._linked("heeros.link.payment.batch").pain_version, "03")


class TestSalaryConfidentiality(PaymentHttpCase):
    """An ordinary Link user and a Link manager, through real JSON-RPC: no
    read, search, count, export or message preview of salary batches."""

    def rpc(self, model, method, args, kwargs=None):
        payload = json.dumps(
            {
                "jsonrpc": "2.0",
                "method": "call",
                "id": 1,
                "params": {"model": model, "method": method, "args": args, "kwargs": dict(kwargs or {}, context={})},
            }
        ).encode()
        response = self.url_open(
            "/web/dataset/call_kw", data=payload, headers={"Content-Type": "application/json"}, timeout=60
        )
        response.raise_for_status()
        body = response.json()
        if "error" in body:
            return None, body["error"]["data"]
        return body["result"], None

    def test_link_user_and_manager_see_no_salaries(self):
        salary = self.env["heeros.link.payment.batch"]._heeros_link_from_salary_list(CSV, "palkat.csv", self.journal)
        salary.action_approve()
        salary.action_send()
        supplier = self.batch_of(self.bill(self.supplier, 10.0))
        message = salary.heeros_link_message_ids
        self.assertTrue(message.heeros_link_confidential)
        self.env.flush_all()
        for login in ("pay-user", "pay-manager"):
            with self.subTest(login=login):
                self.authenticate(login, f"{login}-pw")
                result, _error = self.rpc("heeros.link.payment.batch", "search_read", [[]], {"fields": ["name"]})
                self.assertEqual([r["id"] for r in result], supplier.ids)
                for model, ids in (
                    ("heeros.link.payment.batch", salary.ids),
                    ("heeros.link.payment.line", salary.line_ids.ids),
                    ("heeros.link.message", message.ids),
                ):
                    result, error = self.rpc(model, "read", [ids, ["display_name"]])
                    self.assertIsNotNone(error, f"{login} read {model}")
                    self.assertIn("AccessError", error["name"])
                    result, _error = self.rpc(model, "search_count", [[("id", "in", ids)]])
                    self.assertEqual(result, 0, f"{login} counted {model}")
                    result, error = self.rpc(model, "export_data", [ids, ["id", "display_name"]])
                    self.assertTrue(error or not result.get("datas"), f"{login} exported {model}")
                result, _error = self.rpc(
                    "heeros.link.payment.line",
                    "search_read",
                    [[("creditor_name", "ilike", "Virtanen")]],
                    {"fields": ["amount"]},
                )
                self.assertEqual(result, [])
                # the message list and its previews
                result, _error = self.rpc(
                    "heeros.link.message",
                    "web_search_read",
                    [[]],
                    {"specification": {"name": {}, "file_name": {}, "error": {}}},
                )
                self.assertNotIn(message.id, [r["id"] for r in result["records"]])
                self.assertNotIn("Virtanen", json.dumps(result))
                result, _error = self.rpc(
                    "heeros.link.message.link",
                    "search_read",
                    [[("res_model", "=", "heeros.link.payment.batch")]],
                    {"fields": ["res_id"]},
                )
                self.assertNotIn(salary.id, [r["res_id"] for r in result])
                result, error = self.rpc("ir.attachment", "read", [message.attachment_id.ids, ["raw"]])
                self.assertIsNotNone(error, f"{login} read the salary file")
                result, error = self.rpc(
                    "mail.message",
                    "search_read",
                    [[("model", "=", "heeros.link.payment.batch"), ("res_id", "=", salary.id)]],
                    {"fields": ["body"]},
                )
                self.assertFalse(result, f"{login} read the salary batch's chatter")
                result, error = self.rpc(
                    "heeros.link.payment.batch", "create", [{"journal_id": self.journal.id, "kind": "salary"}]
                )
                self.assertIsNotNone(error, f"{login} created a salary batch")
        # the salary group sees them
        self.authenticate("pay-salary", "pay-salary-pw")
        result, error = self.rpc(
            "heeros.link.payment.line",
            "search_read",
            [[("batch_id", "=", salary.id)]],
            {"fields": ["creditor_name", "amount"]},
        )
        self.assertIsNone(error)
        self.assertEqual(sorted(r["creditor_name"] for r in result), ["Maija Meikäläinen", "Matti Virtanen"])
        result, error = self.rpc("heeros.link.message", "read", [message.ids, ["name"]])
        self.assertIsNone(error)

    def test_record_rules_in_the_orm(self):
        salary = self.env["heeros.link.payment.batch"]._heeros_link_from_salary_list(CSV, "palkat.csv", self.journal)
        with self.assertRaises(AccessError):
            salary.with_user(self.user).read(["name"])
        self.assertFalse(
            self.env["heeros.link.payment.line"].with_user(self.manager).search([("batch_id", "=", salary.id)])
        )
        self.assertEqual(
            self.env["heeros.link.payment.line"].with_user(self.payroll).search_count([("batch_id", "=", salary.id)]), 2
        )
