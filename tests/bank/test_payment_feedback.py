"""What the bank says about a sent payment batch (pain.002) and the debit of
the batch on the statement: the shared pain.002 samples applied to batches
whose ids are those of the samples, unmatched and repeated feedback, the
overdue flag, and the batch's payments reconciled by a camt.053."""

import re
from datetime import date, timedelta
from decimal import Decimal

from odoo import Command, fields
from tests.common import SHARED_DATA

from .common import IBAN_A, BankCase
from .payment_common import IBAN_COMPANY, PaymentCase

PAIN002 = SHARED_DATA / "bank" / "samples" / "pain002"
IBAN_SUPPLIER = "FI2112345600000785"


def sample(name):
    return (PAIN002 / name).read_bytes()


def rewrite(data, **ids):
    """The sample ``data`` with ids replaced (``old=new``, spelled as
    keyword pairs ``{"old": "new"}``)."""
    text = data.decode("utf-8")
    for old, new in ids.items():
        text = text.replace(old, new)
    return text.encode("utf-8")


class FeedbackCase(BankCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.supplier = cls.env["res.partner"].create(
            {
                "name": "Toimittaja Oy",
                "is_company": True,
                "country_id": cls.env.ref("base.fi").id,
                "city": "Helsinki",
                "zip": "00100",
                "street": "Katu 1",
                "bank_ids": [Command.create({"acc_number": IBAN_SUPPLIER})],
            }
        )
        # Odoo's usual flow: payments wait in the journal's outstanding payments account
        outstanding = cls.env["account.account"].search(
            [("company_ids", "in", cls.company_a.id), ("name", "=", "Outstanding Payments")], limit=1
        )
        outstanding.reconcile = True
        cls.outstanding = outstanding
        lines = cls.journal_a.outbound_payment_method_line_ids
        lines.filtered(lambda line: not line.payment_account_id).payment_account_id = outstanding
        cls.Batch = cls.env["heeros.link.payment.batch"].with_company(cls.company_a)
        cls.responsible = cls.env["res.users"].create(
            {
                "name": "Kirjanpitäjä",
                "login": "kirjanpitaja-fb",
                "lang": "en_US",
                "company_id": cls.company_a.id,
                "company_ids": [Command.set(cls.company_a.ids)],
                "groups_id": [Command.link(cls.env.ref("account.group_account_user").id)],
            }
        )

    # ------------------------------------------------------------------
    # builders
    # ------------------------------------------------------------------
    def bill(self, amount, number):
        move = (
            self.env["account.move"]
            .with_company(self.company_a)
            .create(
                {
                    "move_type": "in_invoice",
                    "partner_id": self.supplier.id,
                    "ref": f"LASKU-{number}",
                    "invoice_date": date(2024, 3, 1),
                    "invoice_date_due": date(2024, 3, 1),
                    "partner_bank_id": self.supplier.bank_ids[:1].id,
                    "invoice_line_ids": [
                        Command.create(
                            {"name": "Tavara", "quantity": 1, "price_unit": amount, "tax_ids": [Command.clear()]}
                        )
                    ],
                }
            )
        )
        move.action_post()
        return move

    def sent_batch(self, message_id, groups, amount=100):
        """A batch sent to the bank as pain.001 ``message_id``: ``groups`` is
        ``[(payment information id, [end-to-end id or None, ...])]``, one
        bill (of ``amount``) and payment per end-to-end id. Returns the
        batch, its lines in that order."""
        count = sum(len(e2es) for _info, e2es in groups)
        bills = self.env["account.move"]
        for n in range(count):
            bills |= self.bill(amount + n, f"{message_id}-{n}")
        batch = self.Batch.create(
            {"journal_id": self.journal_a.id, "execution_date": date(2024, 3, 4), "user_id": self.responsible.id}
        )
        lines = batch._heeros_link_add_moves(bills)
        batch.action_approve()
        self.pay(batch, lines)
        n = 0
        for info_id, e2es in groups:
            for e2e in e2es:
                vals = {"payment_info_id": info_id, "state": "sent"}
                if e2e:
                    vals["end_to_end_id"] = e2e
                lines[n].write(vals)
                n += 1
        batch.write(
            {"state": "sent", "pain_message_id": message_id, "sent_at": fields.Datetime.now() - timedelta(hours=1)}
        )
        return batch, lines

    def pay(self, batch, lines):
        """Create the Odoo payments of ``lines`` as sending the batch does,
        matched to their bills."""
        if hasattr(batch, "_heeros_link_create_payments"):
            batch._heeros_link_create_payments()
        for line in lines.filtered(lambda line: not line.payment_id):
            wizard = (
                self.env["account.payment.register"]
                .with_company(self.company_a)
                .with_context(active_model="account.move", active_ids=line.move_id.ids)
                .create({"journal_id": self.journal_a.id, "payment_date": date(2024, 3, 4)})
            )
            line.payment_id = wizard._create_payments()
        for line in lines:
            # the payment waits in the outstanding account for the bank's debit
            self.assertTrue(line.payment_id.move_id)
            self.assertFalse(line.payment_id.is_matched)
            self.assertNotEqual(line.move_id.payment_state, "not_paid")

    def feed(self, data, name="pain002.xml"):
        return self.intake((name, data), connection=self.connection)

    def activities(self, batch):
        return self.env["mail.activity"].search([("res_model", "=", batch._name), ("res_id", "=", batch.id)])


class TestPain002(FeedbackCase):
    def test_accepted(self):
        """corporate.js sample 3: the group and the block accepted (ACCP)."""
        batch, lines = self.sent_batch("20140102-0000001", [("20110102-123456-01", [None])])
        message = self.feed(sample("corporatejs_pain002_3.xml"))
        self.assertEqual(message.state, "processed", message.error)
        self.assertEqual(message.document_type, "pain.002")
        self.assertEqual(batch.state, "accepted")
        self.assertEqual(batch.feedback_state, "ACCP")
        self.assertTrue(batch.feedback_at)
        self.assertEqual(lines.mapped("state"), ["accepted"])
        self.assertEqual(lines.status_code, "ACCP")
        self.assertFalse(lines.payment_id.is_matched, "an accepted payment still waits for the debit")
        self.assertIn(batch, message._linked(batch._name))
        self.assertFalse(self.activities(batch))

    def test_technical_then_accepted(self):
        """ACTC (sample 1, for the file of sample 3) then ACCP (sample 3): the status
        moves on; the earlier status arriving late does not take it back."""
        batch, lines = self.sent_batch("20140102-0000001", [("20110102-123456-01", [None])])
        technical = rewrite(sample("corporatejs_pain002_1.xml"), **{"20110102-0000001": "20140102-0000001"})
        first = self.feed(technical, "s1.xml")
        self.assertEqual(first.state, "processed", first.error)
        self.assertEqual(batch.state, "accepted")
        self.assertEqual(lines.status_code, "ACTC")
        self.feed(sample("corporatejs_pain002_3.xml"), "s3.xml")
        self.assertEqual(lines.status_code, "ACCP")
        late = rewrite(technical, **{"1539869": "1539999"})
        late_message = self.feed(late, "late.xml")
        self.assertEqual(late_message.state, "processed", late_message.error)
        self.assertEqual(lines.status_code, "ACCP", "a lower status does not take a payment back")

    def test_partially_accepted(self):
        """corporate.js sample 4: of eight payments in four blocks, one
        rejected by its transaction status (NARR), a whole block of two
        rejected (DT01), the rest accepted. The rejected payments are
        cancelled, their bills open again, and the responsible person has an
        activity with the reasons in words."""
        batch, lines = self.sent_batch(
            "MsgId_110610",
            [
                ("20140102-123456-01", ["TEST PMT", None, None]),
                ("20140102-123456-02", [None, None]),
                ("20140102-123456-03", [None, None]),
                ("20140102-123456-04", [None]),
            ],
        )
        message = self.feed(sample("corporatejs_pain002_4.xml"))
        self.assertEqual(message.state, "processed", message.error)
        self.assertEqual(batch.state, "partial")
        self.assertEqual(batch.feedback_state, "PART")
        self.assertEqual(
            lines.mapped("state"),
            ["rejected", "accepted", "accepted", "rejected", "rejected", "accepted", "accepted", "accepted"],
        )
        self.assertEqual(lines[0].reason_code, "NARR")
        self.assertEqual(lines[0].reason_text, "Viite virheellinen")
        self.assertEqual(lines[3].reason_code, "DT01")
        self.assertEqual(lines[3].reason_text, "Eräpäivä virheellinen")
        rejected = lines[0] | lines[3] | lines[4]
        for line in rejected:
            self.assertEqual(line.payment_id.state, "canceled")
            self.assertEqual(line.move_id.payment_state, "not_paid", "the bill is open for payment again")
        for line in lines - rejected:
            self.assertNotEqual(line.payment_id.state, "canceled")
            self.assertNotEqual(line.move_id.payment_state, "not_paid")
        activity = self.activities(batch)
        self.assertEqual(len(activity), 1)
        self.assertEqual(activity.user_id, self.responsible)
        self.assertIn("TEST PMT", activity.note)
        self.assertIn("Viite virheellinen", activity.note)
        self.assertIn("DT01", activity.note)
        # the bill of a rejected payment can go into a new batch
        again = self.Batch.create({"journal_id": self.journal_a.id})
        again._heeros_link_add_moves(lines[0].move_id)
        self.assertEqual(again.line_ids.move_id, lines[0].move_id)

    def test_group_rejected(self):
        """corporate.js sample 5: the group rejected (RJCT) with the block's
        reason DT01: every payment is rejected and cancelled."""
        batch, lines = self.sent_batch("MsgId_20140108-00004", [("20140108-123456-01", [None, None])])
        message = self.feed(sample("corporatejs_pain002_5.xml"))
        self.assertEqual(message.state, "processed", message.error)
        self.assertEqual(batch.state, "rejected")
        self.assertEqual(lines.mapped("state"), ["rejected", "rejected"])
        self.assertEqual(set(lines.mapped("reason_code")), {"DT01"})
        self.assertEqual(set(lines.move_id.mapped("payment_state")), {"not_paid"})
        self.assertEqual(len(self.activities(batch)), 1)

    def test_group_rejected_with_transaction_reason(self):
        """corporate.js sample 6: group rejected, the one payment's reason AM01
        (zero amount) with the bank's Finnish text; the reason is in words in
        the responsible person's language."""
        self.env["res.lang"]._activate_lang("fi_FI")
        self.responsible.lang = "fi_FI"
        batch, lines = self.sent_batch("1547478597597", [("1547478597597-G-1", ["1547478597597-G-1-P-1"])])
        self.feed(sample("corporatejs_pain002_6.xml"))
        self.assertEqual(batch.state, "rejected")
        self.assertEqual(lines.reason_code, "AM01")
        self.assertEqual(lines.reason_text, "Nolla-summa tilisiirrossa.")
        note = self.activities(batch).note
        self.assertIn("AM01", note)
        words = self.env["heeros.link.payment.feedback"]._link_reason_words("AM01", "fi_FI")
        self.assertTrue(words)
        self.assertIn(words, note)

    def test_single_rejected_without_group_status(self):
        """Bank Web Services sample: one transaction rejected (AC01), no
        group status: the other payment of the block is not decided."""
        batch, lines = self.sent_batch("MSGID000012", [("20101114-2345678901", ["EndToEndId000001", None])])
        self.feed(sample("bankingws_payment_status_report_single_rejected.xml"))
        self.assertEqual(lines.mapped("state"), ["rejected", "sent"])
        self.assertEqual(lines[0].reason_code, "AC01")
        self.assertEqual(batch.state, "partial")

    def test_group_partial_without_details(self):
        """A PART with no details says nothing about single payments."""
        batch, lines = self.sent_batch("MSGID000010", [("PMT-1", [None, None])])
        self.feed(sample("bankingws_payment_status_report_partially_accepted.xml"))
        self.assertEqual(batch.state, "partial")
        self.assertEqual(lines.mapped("state"), ["sent", "sent"])

    def test_unmatched_kept_as_error(self):
        """corporate.js sample 2 names a message id no batch has: the report
        stays an error naming it, and can be reprocessed once the batch
        exists."""
        message = self.feed(sample("corporatejs_pain002_2.xml"))
        self.assertEqual(message.state, "error")
        self.assertEqual(message.document_type, "pain.002")
        self.assertIn("20110102-0000001", message.error)
        batch, lines = self.sent_batch("20110102-0000001", [("X-1", [None])])
        message.action_reprocess()
        self.assertEqual(message.state, "processed", message.error)
        self.assertEqual(batch.state, "rejected")
        self.assertEqual(lines.reason_code, "NARR")

    def test_unmatched_ids_named(self):
        data = rewrite(sample("corporatejs_pain002_6.xml"), **{"1547478597597": "999000111"})
        message = self.feed(data)
        self.assertEqual(message.state, "error")
        for text in ("999000111", "999000111-G-1", "999000111-G-1-P-1"):
            self.assertIn(text, message.error)

    def test_repeated_feedback_changes_nothing(self):
        batch, lines = self.sent_batch(
            "MsgId_110610",
            [
                ("20140102-123456-01", ["TEST PMT", None, None]),
                ("20140102-123456-02", [None, None]),
                ("20140102-123456-03", [None, None]),
                ("20140102-123456-04", [None]),
            ],
        )
        data = sample("corporatejs_pain002_4.xml")
        self.feed(data, "first.xml")
        before = {
            "batch": batch.read(["state", "feedback_state", "feedback_at", "line_count", "amount_total"])[0],
            "lines": lines.read(["state", "status_code", "reason_code", "write_date"]),
            "payments": lines.payment_id.read(["state", "write_date"]),
            "activities": self.activities(batch).ids,
        }
        # the same file again
        self.assertEqual(self.feed(data, "again.xml").state, "duplicate")
        # the same report in another file (the bank's own id unchanged)
        respaced = data.replace(b"<GrpSts>", b"\n<GrpSts>")
        self.assertEqual(self.feed(respaced, "respaced.xml").state, "duplicate")
        # the same statuses under a new report id: applied, and nothing changes
        renamed = rewrite(data, **{"1540378": "1540999"})
        self.assertEqual(self.feed(renamed, "renamed.xml").state, "processed")
        self.env.invalidate_all()
        after = {
            "batch": batch.read(["state", "feedback_state", "feedback_at", "line_count", "amount_total"])[0],
            "lines": lines.read(["state", "status_code", "reason_code", "write_date"]),
            "payments": lines.payment_id.read(["state", "write_date"]),
            "activities": self.activities(batch).ids,
        }
        self.assertEqual(after, before)
        # each report received is listed with the batch's files
        self.assertEqual(len(batch.heeros_link_message_ids.filtered(lambda m: m.document_type == "pain.002")), 2)

    def test_other_company_batch_not_touched(self):
        """A report is routed to the company of the batch it names; a
        connection that does not serve that company leaves it an error."""
        batch, _lines = self.sent_batch("20140102-0000001", [("20110102-123456-01", [None])])
        lonely = self.env["heeros.link.connection"].create(
            {
                "name": "Company B only",
                "protocol": "local",
                "local_root": self.tmp,
                "direction": "in",
                "company_id": self.company_b.id,
                "company_ids": [Command.set(self.company_b.ids)],
            }
        )
        message = self.intake(("b.xml", sample("corporatejs_pain002_3.xml")), company=self.company_b, connection=lonely)
        self.assertEqual(message.state, "error")
        self.assertIn("20140102-0000001", message.error)
        self.assertEqual(batch.state, "sent")


class TestFeedbackMonitoring(FeedbackCase):
    def test_overdue_flag(self):
        batch, _lines = self.sent_batch("MON-1", [("MON-1-1", [None])])
        self.assertEqual(self.company_a.heeros_link_feedback_hours, 24)
        Batch = self.env["heeros.link.payment.batch"]
        Batch._cron_heeros_link_feedback_overdue()
        self.assertFalse(batch.feedback_overdue, "sent an hour ago: not yet")
        batch.sent_at = fields.Datetime.now() - timedelta(hours=30)
        Batch._cron_heeros_link_feedback_overdue()
        self.assertTrue(batch.feedback_overdue)
        overdue = Batch.search([("feedback_overdue", "=", True), ("company_id", "=", self.company_a.id)])
        self.assertEqual(overdue, batch)
        self.assertEqual(self.journal_a.heeros_link_overdue_batch_count, 1)
        accountant = self.env["res.users"].create(
            {
                "name": "Ei Link-käyttäjä",
                "login": "no-link-fb",
                "company_id": self.company_a.id,
                "company_ids": [Command.set(self.company_a.ids)],
                "groups_id": [Command.link(self.env.ref("account.group_account_user").id)],
            }
        )
        self.assertEqual(
            self.journal_a.with_user(accountant).heeros_link_overdue_batch_count,
            0,
            "an accountant who sees no batches sees the dashboard without the count",
        )
        self.company_a.heeros_link_feedback_hours = 48
        self.assertFalse(batch.feedback_overdue, "a longer waiting time")
        self.company_a.heeros_link_feedback_hours = 24
        self.assertTrue(batch.feedback_overdue)
        # feedback arrives: no longer overdue
        data = rewrite(sample("corporatejs_pain002_1.xml"), **{"20110102-0000001": "MON-1"})
        self.feed(data)
        self.assertEqual(batch.state, "accepted")
        self.assertFalse(batch.feedback_overdue)


def _debit_entry(amount, archive, day, batch=None, e2e=(), texts=()):
    """A booked debit (camt ``Ntry``): ``batch`` is ``(MsgId, PmtInfId,
    count)`` of a batch entry, ``e2e`` the end-to-end ids of its payments
    (``(id, amount)``), ``texts`` the entry's additional info."""
    value = Decimal(str(amount))
    parts = [
        f'<Ntry><Amt Ccy="EUR">{value:.2f}</Amt><CdtDbtInd>DBIT</CdtDbtInd><Sts>BOOK</Sts>'
        f"<BookgDt><Dt>{day}</Dt></BookgDt><ValDt><Dt>{day}</Dt></ValDt>"
        f"<AcctSvcrRef>{archive}</AcctSvcrRef>"
        "<BkTxCd><Domn><Cd>PMNT</Cd><Fmly><Cd>ICDT</Cd><SubFmlyCd>DMCT</SubFmlyCd></Fmly></Domn>"
        "<Prtry><Cd>710TILISIIRTO</Cd><Issr>FFFS</Issr></Prtry></BkTxCd><NtryDtls>"
    ]
    if batch:
        msg_id, info_id, count = batch
        parts.append(
            "<Btch>"
            + (f"<MsgId>{msg_id}</MsgId>" if msg_id else "")
            + (f"<PmtInfId>{info_id}</PmtInfId>" if info_id else "")
            + f"<NbOfTxs>{count}</NbOfTxs></Btch>"
        )
    for e2e_id, tx_amount in e2e:
        parts.append(
            f"<TxDtls><Refs><EndToEndId>{e2e_id}</EndToEndId></Refs>"
            f'<AmtDtls><TxAmt><Amt Ccy="EUR">{Decimal(str(tx_amount)):.2f}</Amt></TxAmt></AmtDtls>'
            "<RltdPties><Cdtr><Nm>Toimittaja Oy</Nm></Cdtr></RltdPties></TxDtls>"
        )
    parts.append("</NtryDtls>")
    parts.extend(f"<AddtlNtryInf>{t}</AddtlNtryInf>" for t in texts)
    parts.append("</Ntry>")
    return "".join(parts)


def _notification(entries, day="2024-03-05", msg_id="NTF-FB", iban=IBAN_A):
    """A camt.054 debit notification of ``entries``."""
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.054.001.02"><BkToCstmrDbtCdtNtfctn>'
        f"<GrpHdr><MsgId>{msg_id}</MsgId><CreDtTm>{day}T22:00:00+02:00</CreDtTm></GrpHdr>"
        f"<Ntfctn><Id>{msg_id}.1</Id><CreDtTm>{day}T22:00:00+02:00</CreDtTm>"
        f"<Acct><Id><IBAN>{iban}</IBAN></Id><Ccy>EUR</Ccy></Acct>"
        + "".join(entries)
        + "</Ntfctn></BkToCstmrDbtCdtNtfctn></Document>"
    ).encode("utf-8")


def _statement(entries, day="2024-03-05", msg_id="STMT-FB", opening=10000, iban=IBAN_A):
    total = sum(Decimal(re.search(r'<Amt Ccy="EUR">([0-9.]+)</Amt><CdtDbtInd>DBIT', e).group(1)) for e in entries)
    closing = Decimal(opening) - total
    bal = (
        '<Bal><Tp><CdOrPrtry><Cd>{code}</Cd></CdOrPrtry></Tp><Amt Ccy="EUR">{amount:.2f}</Amt>'
        "<CdtDbtInd>CRDT</CdtDbtInd><Dt><Dt>{day}</Dt></Dt></Bal>"
    )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.02"><BkToCstmrStmt>'
        f"<GrpHdr><MsgId>{msg_id}</MsgId><CreDtTm>{day}T22:00:00+02:00</CreDtTm></GrpHdr>"
        f"<Stmt><Id>{msg_id}.1</Id><LglSeqNb>1</LglSeqNb><CreDtTm>{day}T22:00:00+02:00</CreDtTm>"
        f"<Acct><Id><IBAN>{iban}</IBAN></Id><Ccy>EUR</Ccy></Acct>"
        + bal.format(code="OPBD", amount=Decimal(opening), day=day)
        + bal.format(code="CLBD", amount=closing, day=day)
        + "".join(entries)
        + "</Stmt></BkToCstmrStmt></Document>"
    ).encode("utf-8")


class TestBatchReconciliation(FeedbackCase):
    def assert_paid(self, batch, lines):
        for line in lines:
            self.assertEqual(line.state, "done")
            self.assertTrue(line.payment_id.is_matched, "reconciled with the statement")
            self.assertEqual(line.move_id.payment_state, "paid")
        self.assertEqual(batch.state, "done")

    def test_batch_entry_by_message_id(self):
        """One entry for the whole batch, carrying its message id."""
        batch, lines = self.sent_batch("PAY-MSG-1", [("PAY-MSG-1-1", [None, None, None])])
        total = sum(lines.mapped("amount"))
        message = self.intake(
            ("st1.xml", _statement([_debit_entry(total, "A-1", "2024-03-05", batch=("PAY-MSG-1", None, 3))]))
        )
        self.assertEqual(message.state, "processed", message.error)
        line = self.lines(self.journal_a)
        self.assertEqual(len(line), 1)
        self.assertTrue(line.is_reconciled)
        self.assert_paid(batch, lines)

    def test_batch_entry_by_payment_information_id(self):
        """A batch of two blocks booked as two entries, one per payment
        information id, named in the entry's text only."""
        batch, lines = self.sent_batch("PAY-MSG-2", [("PAY-MSG-2-A", [None]), ("PAY-MSG-2-B", [None, None])])
        message = self.intake(
            (
                "st2.xml",
                _statement(
                    [
                        _debit_entry(lines[0].amount, "A-2", "2024-03-05", texts=["Maksuerä PAY-MSG-2-A"]),
                        _debit_entry(
                            sum((lines[1] | lines[2]).mapped("amount")),
                            "A-3",
                            "2024-03-05",
                            batch=(None, "PAY-MSG-2-B", 2),
                        ),
                    ]
                ),
            )
        )
        self.assertEqual(message.state, "processed", message.error)
        self.assertTrue(all(self.lines(self.journal_a).mapped("is_reconciled")))
        self.assert_paid(batch, lines)

    def test_entry_per_payment_by_end_to_end_id(self):
        """One entry per payment, each with its end-to-end id; the payments
        reconciled as the entries come, the batch done with the last."""
        batch, lines = self.sent_batch("PAY-MSG-3", [("PAY-MSG-3-1", [None, None])])
        first, second = lines
        self.intake(
            (
                "st3.xml",
                _statement(
                    [_debit_entry(first.amount, "A-4", "2024-03-05", e2e=[(first.end_to_end_id, first.amount)])]
                ),
            )
        )
        self.assertEqual(first.state, "done")
        self.assertTrue(first.payment_id.is_matched)
        self.assertEqual(second.state, "sent")
        self.assertFalse(second.payment_id.is_matched)
        self.assertEqual(batch.state, "sent")
        statement_line = self.lines(self.journal_a)
        self.assertEqual(statement_line.partner_id, self.supplier)
        self.intake(
            (
                "st4.xml",
                _statement(
                    [_debit_entry(second.amount, "A-5", "2024-03-06", e2e=[(second.end_to_end_id, second.amount)])],
                    day="2024-03-06",
                    msg_id="STMT-FB2",
                    opening=10000 - first.amount,
                ),
            )
        )
        self.assert_paid(batch, lines)

    def test_batch_entry_itemised_by_end_to_end_ids(self):
        """A batch entry listing its payments by end-to-end id."""
        batch, lines = self.sent_batch("PAY-MSG-4", [("PAY-MSG-4-1", [None, None])])
        total = sum(lines.mapped("amount"))
        self.intake(
            (
                "st5.xml",
                _statement(
                    [
                        _debit_entry(
                            total,
                            "A-6",
                            "2024-03-05",
                            batch=(None, None, 2),
                            e2e=[(line.end_to_end_id, line.amount) for line in lines],
                        )
                    ]
                ),
            )
        )
        self.assert_paid(batch, lines)

    def test_debit_notification_by_end_to_end_ids(self):
        """A camt.054 debit notification itemising the batch's debit by
        end-to-end id: each payment is a line of its own, reconciled."""
        batch, lines = self.sent_batch("PAY-MSG-6", [("PAY-MSG-6-1", [None, None])])
        message = self.intake(
            (
                "ntf.xml",
                _notification(
                    [
                        _debit_entry(
                            sum(lines.mapped("amount")),
                            "A-9",
                            "2024-03-05",
                            batch=(None, None, 2),
                            e2e=[(line.end_to_end_id, line.amount) for line in lines],
                        )
                    ]
                ),
            )
        )
        self.assertEqual(message.state, "processed", message.error)
        self.assertEqual(len(self.lines(self.journal_a)), 2)
        self.assert_paid(batch, lines)

    def test_amount_that_differs_is_not_reconciled(self):
        batch, lines = self.sent_batch("PAY-MSG-5", [("PAY-MSG-5-1", [None, None])])
        message = self.intake(
            (
                "st6.xml",
                _statement(
                    [_debit_entry(sum(lines.mapped("amount")) + 1, "A-7", "2024-03-05", batch=("PAY-MSG-5", None, 2))]
                ),
            )
        )
        self.assertEqual(message.state, "processed", message.error)
        self.assertFalse(self.lines(self.journal_a).is_reconciled)
        self.assertIn(batch.name, message.bank_warning or "")
        self.assertEqual(batch.state, "sent")
        self.assertEqual(set(lines.mapped("state")), {"sent"})

    def test_rejected_payment_not_reconciled(self):
        """After a rejection only the remaining payments are the batch's debit."""
        batch, lines = self.sent_batch("MSGID000012", [("20101114-2345678901", ["EndToEndId000001", None])])
        self.feed(sample("bankingws_payment_status_report_single_rejected.xml"))
        kept = lines[1]
        self.intake(
            ("st7.xml", _statement([_debit_entry(kept.amount, "A-8", "2024-03-05", batch=("MSGID000012", None, 1))]))
        )
        self.assertEqual(kept.state, "done")
        self.assertTrue(kept.payment_id.is_matched)
        self.assertEqual(lines[0].state, "rejected")
        self.assertEqual(lines[0].move_id.payment_state, "not_paid")
        self.assertEqual(batch.state, "done")


class TestSentBatchFollowedToTheEnd(PaymentCase):
    """A batch built from bills and sent through its connection as the Link
    does it, then the bank's reports (shared samples with the ids of the
    file sent) and the statement."""

    def intake(self, name, data):
        return (
            self.env["heeros.link.message"]
            .with_company(self.company)
            ._link_intake([(name, data)], connection=self.connection, company=self.company)
        )

    def test_rejection_acceptance_and_debit(self):
        bills = self.bill(self.supplier, 120.5, ref=self.fi_ref(1232)) | self.bill(
            self.supplier_de, 80.0, ref="RF18539007547034"
        )
        batch = self.batch_of(bills)
        batch.action_approve()
        batch.action_send()
        outbound = batch.heeros_link_message_ids
        outbound._link_send()
        self.assertEqual(batch.state, "sent")
        fi_line = batch.line_ids.filtered(lambda line: line.partner_id == self.supplier)
        de_line = batch.line_ids - fi_line
        ids = {
            "MSGID000012": batch.pain_message_id,
            "20101114-2345678901": fi_line.payment_info_id,
            "EndToEndId000001": fi_line.end_to_end_id,
        }
        # the bank rejects the Finnish payment (AC01) and says nothing of the other yet
        report = self.intake("rjct.xml", rewrite(sample("bankingws_payment_status_report_single_rejected.xml"), **ids))
        self.assertEqual(report.state, "processed", report.error)
        self.assertEqual((fi_line.state, fi_line.reason_code), ("rejected", "AC01"))
        self.assertEqual(de_line.state, "sent")
        self.assertEqual(batch.state, "partial")
        self.assertEqual(outbound.state, "accepted", "the file itself was accepted")
        self.assertEqual(report.parent_id, outbound)
        self.assertEqual(fi_line.payment_id.state, "canceled")
        self.assertEqual(fi_line.move_id.payment_state, "not_paid")
        self.assertEqual(de_line.move_id.payment_state, "in_payment")
        activity = self.env["mail.activity"].search([("res_model", "=", batch._name), ("res_id", "=", batch.id)])
        self.assertEqual(activity.user_id, batch.user_id)
        self.assertIn("Account number is incorrect", activity.note)
        # then accepts the rest
        accepted = rewrite(
            sample("corporatejs_pain002_3.xml"),
            **{"20140102-0000001": batch.pain_message_id, "20110102-123456-01": de_line.payment_info_id},
        )
        self.assertEqual(self.intake("accp.xml", accepted).state, "processed")
        self.assertEqual((fi_line.state, de_line.state), ("rejected", "accepted"))
        self.assertEqual(batch.state, "partial")
        # the statement books the batch's debit: the accepted payment only
        statement = self.intake(
            "stmt.xml",
            _statement(
                [_debit_entry(de_line.amount, "E2E-1", "2026-12-07", batch=(batch.pain_message_id, None, 1))],
                day="2026-12-07",
                iban=IBAN_COMPANY,
            ),
        )
        self.assertEqual(statement.state, "processed", statement.error)
        self.assertEqual(de_line.state, "done")
        self.assertTrue(de_line.payment_id.is_matched)
        self.assertEqual(de_line.move_id.payment_state, "paid")
        self.assertEqual(batch.state, "done")
        self.assertTrue(statement.bank_statement_ids.line_ids.is_reconciled)
        # the rejected bill goes into a new batch
        again = self.batch_of(fi_line.move_id)
        self.assertEqual(again.line_ids.move_id, fi_line.move_id)

    def test_rejected_salary_names_no_payee(self):
        """A salary batch's rejection: the activity and the chatter name no
        payee, and the report is hidden like the batch."""
        batch = self.Batch.create(
            {
                "journal_id": self.journal.id,
                "kind": "salary",
                "user_id": self.payroll.id,
                "execution_date": date(2026, 12, 7),
            }
        )
        line = self.env["heeros.link.payment.line"].create(
            {
                "batch_id": batch.id,
                "creditor_name": "Matti Meikäläinen",
                "iban": "FI2112345600000785",
                "amount": 2500,
                "currency_id": self.eur.id,
                "message": "Palkka 12/2026",
            }
        )
        self.assertTrue(batch.confidential)
        line.write({"state": "sent", "payment_info_id": f"{batch.id}-SAL-1"})
        batch.write({"state": "sent", "pain_message_id": f"SAL-{batch.id}", "sent_at": fields.Datetime.now()})
        report = self.intake(
            "sal.xml",
            rewrite(
                sample("corporatejs_pain002_6.xml"),
                **{
                    "1547478597597-G-1-P-1": line.end_to_end_id,
                    "1547478597597-G-1": line.payment_info_id,
                    "1547478597597": batch.pain_message_id,
                },
            ),
        )
        self.assertEqual(report.state, "processed", report.error)
        self.assertTrue(report.heeros_link_confidential)
        self.assertEqual((line.state, batch.state), ("rejected", "rejected"))
        activity = self.env["mail.activity"].search([("res_model", "=", batch._name), ("res_id", "=", batch.id)])
        self.assertEqual(activity.user_id, self.payroll)
        self.assertIn(line.end_to_end_id, activity.note)
        texts = [
            activity.note,
            *batch.message_ids.mapped("body"),
            *report.message_ids.mapped("body"),
            report.bank_warning or "",
        ]
        self.assertFalse([t for t in texts if "Matti" in (t or "") or "Meik" in (t or "")])
        # an ordinary Link user sees neither the batch nor the report
        self.assertFalse(self.env["heeros.link.message"].with_user(self.user).search([("id", "=", report.id)]))
