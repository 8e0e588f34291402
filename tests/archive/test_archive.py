"""The electronic archive: what is archived, retention, legal hold, disposal,
company isolation."""

import base64
import hashlib
from datetime import date

from odoo import fields
from odoo.exceptions import AccessError, UserError
from tests.archive.common import ArchiveCase


class TestArchiving(ArchiveCase):
    def test_every_payload_is_archived_with_hash_chain(self):
        inbound = self.intake(("in.txt", b"NOTE archived"), company=self.client_a, process=False)
        outbound = self.Message._link_queue(
            "test.out", "out.xml", b"<pain/>", self.client_a, connection=self.connection
        )
        # not before the final state: an inbound file once processed, an outbound one once sent
        self.assertFalse((inbound | outbound).archive_entry_id)
        inbound._set_state("processing")
        self.assertFalse(inbound.archive_entry_id)
        inbound._set_state("processed")
        outbound._set_state("sending")
        self.assertFalse(outbound.archive_entry_id)
        self.sent(outbound)
        # a state after the final one archives nothing more
        outbound._set_state("accepted")
        self.assertEqual(len(outbound.archive_entry_id), 1)
        entries = self.Entry.search([("message_id", "in", (inbound | outbound).ids)], order="id")
        self.assertEqual(entries.mapped("message_id"), inbound | outbound)
        self.assertEqual(entries.mapped("direction"), ["in", "out"])
        self.assertEqual(entries[0].sha256, hashlib.sha256(b"NOTE archived").hexdigest())
        self.assertEqual(entries[0].attachment_id.raw, b"NOTE archived")
        self.assertEqual(entries[1].attachment_id.raw, b"<pain/>")
        self.assertEqual(entries[0].size, len(b"NOTE archived"))
        self.assertEqual(entries[1].previous_id, entries[0], "chained per company")
        self.assertEqual(entries.mapped("retention_class"), ["voucher", "voucher"])
        self.assertFalse(self.faults(self.client_a))

    def test_sent_invoice_pdf_is_archived_with_its_metadata(self):
        company = self.env.ref("base.main_company")
        partner = self.env["res.partner"].create({"name": "Ostaja Oy"})
        move = (
            self.env["account.move"]
            .with_company(company)
            .create(
                {
                    "move_type": "out_invoice",
                    "partner_id": partner.id,
                    "invoice_date": "2026-03-15",
                    "invoice_line_ids": [
                        (0, 0, {"name": "Service", "quantity": 1, "price_unit": 124.0, "tax_ids": [(6, 0, [])]})
                    ],
                }
            )
        )
        move.action_post()
        pdf = b"%PDF-1.4 the invoice the customer saw " + self.unique()
        move.invoice_pdf_report_file = base64.b64encode(pdf)
        self.assertTrue(move.invoice_pdf_report_id)
        connection = self.connection.copy(
            {"name": "Main", "company_id": company.id, "company_ids": [(6, 0, company.ids)]}
        )
        message = self.Message._link_queue(
            "test.out", "inv.xml", b"<Finvoice/>", company, connection=connection, records=move
        )
        self.assertFalse(message.archive_entry_id, "archived when sent, not when queued")
        message._set_state("sending")
        message._set_state("sent")
        self.assertEqual(
            message.archive_entry_id.filtered(lambda e: e.kind == "payload").attachment_id.raw, b"<Finvoice/>"
        )
        entry = message.archive_entry_id.filtered(lambda e: e.kind == "pdf")
        self.assertEqual(len(entry), 1)
        self.assertEqual(entry.attachment_id.raw, pdf)
        self.assertEqual(entry.sha256, hashlib.sha256(pdf).hexdigest())
        self.assertEqual(entry.partner_id, partner)
        self.assertEqual(entry.document_number, move.name)
        self.assertEqual(entry.document_date, date(2026, 3, 15))
        self.assertAlmostEqual(entry.amount, 124.0)
        self.assertEqual(entry.currency_id, move.currency_id)
        self.assertEqual((entry.res_model, entry.res_id), ("account.move", move.id))
        # (the main company may hold other entries of this database: only these are looked at)
        self.assertFalse([f for f in self.faults(company) if f["entry"] in message.archive_entry_id.ids])

    def test_attached_documents_of_bills_are_archived_by_an_action(self):
        company = self.env.ref("base.main_company")
        vendor = self.env["res.partner"].create({"name": "Toimittaja Oy"})
        bill = (
            self.env["account.move"]
            .with_company(company)
            .create(
                {
                    "move_type": "in_invoice",
                    "partner_id": vendor.id,
                    "invoice_date": "2026-04-30",
                    "ref": "B-1",
                    "invoice_line_ids": [
                        (0, 0, {"name": "Paper", "quantity": 1, "price_unit": 50.0, "tax_ids": [(6, 0, [])]})
                    ],
                }
            )
        )
        scan = b"%PDF-1.4 scanned bill " + self.unique()
        self.env["ir.attachment"].create(
            {
                "name": "scan.pdf",
                "raw": scan,
                "res_model": "account.move",
                "res_id": bill.id,
                "mimetype": "application/pdf",
            }
        )
        bill.action_heeros_link_archive_documents()
        entry = self.Entry.search([("res_model", "=", "account.move"), ("res_id", "=", bill.id)])
        self.assertEqual(len(entry), 1)
        self.assertEqual(
            (entry.kind, entry.direction, entry.document_type), ("document", "in", "account.move.in_invoice")
        )
        self.assertEqual(entry.attachment_id.raw, scan)
        self.assertEqual((entry.partner_id, entry.document_date), (vendor, date(2026, 4, 30)))
        self.assertEqual(entry.retain_until, date(2032, 12, 31))
        bill.action_heeros_link_archive_documents()
        self.assertEqual(
            self.Entry.search_count([("res_model", "=", "account.move"), ("res_id", "=", bill.id)]), 1, "archived once"
        )

    def test_bills_documents_archived_on_posting_where_the_company_asks(self):
        company = self.env.ref("base.main_company")
        vendor = self.env["res.partner"].create({"name": "Toimittaja Kaksi Oy"})

        def bill_with_scan(ref):
            bill = (
                self.env["account.move"]
                .with_company(company)
                .create(
                    {
                        "move_type": "in_invoice",
                        "partner_id": vendor.id,
                        "invoice_date": "2026-05-31",
                        "ref": ref,
                        "invoice_line_ids": [
                            (0, 0, {"name": "Ink", "quantity": 1, "price_unit": 20.0, "tax_ids": [(6, 0, [])]})
                        ],
                    }
                )
            )
            self.env["ir.attachment"].create(
                {
                    "name": f"{ref}.pdf",
                    "raw": b"%PDF-1.4 " + ref.encode() + self.unique(),
                    "res_model": "account.move",
                    "res_id": bill.id,
                    "mimetype": "application/pdf",
                }
            )
            return bill

        def archived(bill):
            return self.Entry.search([("res_model", "=", "account.move"), ("res_id", "=", bill.id)])

        company.heeros_link_archive_bill_documents = False
        quiet = bill_with_scan("B-2")
        quiet.action_post()
        self.assertFalse(archived(quiet), "without the setting, posting archives nothing")
        company.heeros_link_archive_bill_documents = True
        bill = bill_with_scan("B-3")
        self.assertFalse(archived(bill), "a draft is not archived")
        bill.action_post()
        entry = archived(bill)
        self.assertEqual(len(entry), 1)
        self.assertEqual((entry.kind, entry.document_type), ("document", "account.move.in_invoice"))
        self.assertEqual(entry.file_name, "B-3.pdf")
        bill.button_draft()
        bill.action_post()
        self.assertEqual(len(archived(bill)), 1, "posted again, the same file is not archived twice")


class TestRetention(ArchiveCase):
    def test_voucher_and_book_from_the_end_of_the_financial_year(self):
        company = self.client_a
        company.write({"fiscalyear_last_month": "6", "fiscalyear_last_day": 30})
        cls, until = self.Entry._heeros_link_retention(company, "camt.053", "payload", date(2025, 3, 15))
        self.assertEqual((cls, until), ("voucher", date(2031, 6, 30)))
        _cls, until = self.Entry._heeros_link_retention(company, "camt.053", "payload", date(2025, 8, 1))
        self.assertEqual(until, date(2032, 6, 30), "after June, the next financial year")
        self.env["heeros.link.archive.rule"].create(
            {"company_id": company.id, "document_type": "ledger", "retention_class": "book"}
        )
        self.assertEqual(
            self.Entry._heeros_link_retention(company, "ledger", "document", date(2025, 3, 15)),
            ("book", date(2035, 6, 30)),
        )
        self.env["heeros.link.archive.rule"].create({"company_id": company.id, "retention_years": 8})
        self.assertEqual(
            self.Entry._heeros_link_retention(company, "finvoice", "payload", date(2025, 3, 15)),
            ("voucher", date(2033, 6, 30)),
            "the company's rule for every type",
        )
        calendar = self.client_b
        self.assertEqual(
            self.Entry._heeros_link_retention(calendar, "finvoice", "payload", date(2025, 3, 15)),
            ("voucher", date(2031, 12, 31)),
        )
        entry = self.archive(company, document_date=date(2024, 2, 1), document_type="ledger")
        self.assertEqual((entry.retention_class, entry.retain_until), ("book", date(2034, 6, 30)))

    def test_rules_are_set_by_an_archive_manager_only(self):
        with self.assertRaises(AccessError):
            self.env["heeros.link.archive.rule"].with_user(self.user_a).create(
                {"company_id": self.client_a.id, "legal_hold": True}
            )
        rule = (
            self.env["heeros.link.archive.rule"]
            .with_user(self.archivist)
            .create({"company_id": self.client_a.id, "legal_hold": True})
        )
        self.assertTrue(rule.legal_hold)


class TestHoldAndDisposal(ArchiveCase):
    def test_recorded_disposal_removes_bytes_and_keeps_verification_green(self):
        old = self.old(self.client_a, name="old.txt")
        current = self.archive(self.client_a, name="new.txt")
        self.Checkpoint._heeros_link_take(self.client_a)
        attachment = old.attachment_id
        disposal = (old | current).with_user(self.archivist)._heeros_link_dispose("end of retention")
        self.assertEqual(disposal.entry_ids, old)
        self.assertEqual(disposal.user_id, self.archivist)
        self.assertTrue(old.purged)
        self.assertEqual(old.disposal_id, disposal)
        self.assertFalse(old.attachment_id)
        self.assertFalse(attachment.exists(), "the bytes are gone")
        self.assertTrue(old.sha256 and old.chain_hash, "the hashes stay")
        self.assertFalse(current.purged)
        self.assertFalse(self.faults(self.client_a))
        self.env.cr.execute("SELECT current_setting('heeros_link_archive.disposal', true)")
        self.assertNotEqual(self.env.cr.fetchone()[0], "on", "the database guard is back")

    def test_only_an_archive_manager_disposes(self):
        old = self.old(self.client_a)
        for user in (self.user_a, self.user_bureau):
            with self.assertRaises(AccessError):
                old.with_user(user).action_dispose()
            with self.assertRaises(AccessError):
                old.with_user(user).action_legal_hold()
        self.assertFalse(old.purged)
        self.assertTrue(old.attachment_id.raw)

    def test_legal_hold_on_entry_type_and_company(self):
        held = self.old(self.client_b, name="held.txt")
        by_type = self.old(self.client_b, name="type.txt", document_type="finvoice")
        free = self.old(self.client_b, name="free.txt")
        held.with_user(self.archivist).action_legal_hold()
        self.assertTrue(held.legal_hold)
        Rule = self.env["heeros.link.archive.rule"].with_user(self.archivist)
        Rule.create({"company_id": self.client_b.id, "document_type": "finvoice", "legal_hold": True})
        (held | by_type | free).with_user(self.archivist).action_dispose()
        self.assertEqual((held | by_type | free).filtered("purged"), free)
        company_hold = Rule.create({"company_id": self.client_a.id, "legal_hold": True})
        other = self.old(self.client_a)
        other.with_user(self.archivist).action_dispose()
        self.assertFalse(other.purged, "the whole company is on hold")
        company_hold.legal_hold = False
        held.with_user(self.archivist).action_release_hold()
        (held | other).with_user(self.archivist).action_dispose()
        self.assertTrue(held.purged and other.purged)
        self.assertFalse(self.faults(self.client_a | self.client_b))


class TestIsolationAndUse(ArchiveCase):
    def test_client_sees_only_own_archive(self):
        mine = self.received(("b.txt", b"NOTE b"), company=self.client_b).archive_entry_id
        other = self.received(("a.txt", b"NOTE a"), company=self.client_a).archive_entry_id
        visible = self.Entry.with_user(self.user_b).with_context(allowed_company_ids=self.client_b.ids).search([])
        self.assertIn(mine, visible)
        self.assertNotIn(other, visible)
        self.Checkpoint._heeros_link_take(self.client_a)
        self.assertFalse(self.Checkpoint.with_user(self.user_b).search([("company_id", "=", self.client_a.id)]))

    def test_search_by_number_counterparty_amount_and_download(self):
        partner = self.env["res.partner"].create({"name": "Toimittaja Oy"})
        entry = self.archive(
            self.client_a,
            name="bill.pdf",
            document_number="INV-77",
            partner_id=partner.id,
            amount=99.5,
            currency_id=self.env.ref("base.EUR").id,
            document_date=date(2026, 1, 2),
        )
        Entry = self.Entry.with_user(self.user_a).with_context(allowed_company_ids=self.client_a.ids)
        self.assertEqual(Entry.search([("document_number", "ilike", "inv-77")]), entry)
        self.assertEqual(Entry.search([("partner_id", "=", partner.id), ("amount", ">", 99)]), entry)
        self.assertEqual(Entry.search([("document_date", "=", "2026-01-02")]), entry)
        action = entry.with_user(self.user_a).action_download()
        self.assertIn(f"/web/content/{entry.attachment_id.id}", action["url"])
        self.assertEqual(entry.with_user(self.user_a).action_preview()["target"], "new")

    def test_verification_is_stored_per_run_without_writing_entries(self):
        entry = self.received(("v.txt", self.unique()), company=self.client_a).archive_entry_id
        self.env.flush_all()
        before = entry.write_date
        runs = self.Verification.search_count([])
        action = entry.with_user(self.user_a).action_verify()
        self.assertEqual(action["params"]["type"], "success")
        self.assertEqual(self.Verification.search_count([]), runs + 1)
        run = self.Verification.search([], limit=1)
        self.assertEqual(run.result, "ok")
        self.assertGreaterEqual(run.entry_count, 1)
        self.env.invalidate_all()
        self.assertEqual(entry.write_date, before)
        with self.assertRaises(AccessError):
            run.write({"result": "ok"})
        with self.assertRaises(AccessError):
            run.unlink()

    def test_archived_documents_cannot_be_changed_or_deleted(self):
        message = self.received(("x.txt", b"NOTE x"))
        entry = message.archive_entry_id
        for target in (entry, entry.sudo()):
            with self.assertRaises(UserError):
                target.write({"sha256": "0" * 64})
            with self.assertRaises(UserError):
                target.write({"legal_hold": True})
            with self.assertRaises(UserError):
                target.unlink()
            with self.assertRaises(UserError):
                target.attachment_id.write({"raw": b"forged"})
            with self.assertRaises(UserError):
                target.attachment_id.unlink()
        with self.assertRaises(UserError):
            message.attachment_id.write({"raw": b"forged"})
        with self.assertRaises(AccessError):
            self.Entry.with_user(self.user_a).create(
                {
                    "company_id": self.client_a.id,
                    "sha256": "0" * 64,
                    "chain_hash": "0" * 64,
                    "retain_until": fields.Date.today(),
                }
            )
