"""Salary batches: from a payroll system's own pain.001 (imported through
the Link, validated, checked to hold salaries only and sent on unchanged)
or from a salary list (CSV) the Link turns into a pain.001.

Salary batches are confidential: the record rules show them, their lines
and their Link messages to the Salary payments group only, and nothing
about the salaries themselves is written to the chatter or the server log.
"""

from stdnum import iban as stdnum_iban

from odoo import _, api, models
from odoo.addons.heeros_link_base.formats import xmlsafe
from odoo.addons.heeros_link_base.formats.errors import DuplicateDocument, LinkFormatError, RecordError
from odoo.exceptions import UserError

from ..formats import detect, pain001, salary_csv

#: End-to-end ids payroll systems write when they have none of their own.
NO_ID = frozenset({"", "NOTPROVIDED"})


class HeerosLinkPaymentBatchSalary(models.Model):
    _inherit = "heeros.link.payment.batch"

    # ------------------------------------------------------------------
    # a payroll system's pain.001, received through the Link
    # ------------------------------------------------------------------
    @api.model
    def _heeros_link_handle_payroll_pain001(self, message):
        """Handler of an inbound pain.001: a salary batch to approve and send
        on unchanged. Refuses a file that is not valid against its schema or
        holds anything else than salaries (category purpose SALA)."""
        data = message._payload()
        version = pain001.validate(data, message.file_name)
        document = pain001.read(data, message.file_name, salary_only=True)
        journal = self._heeros_link_payroll_journal(message, document)
        company = journal.company_id
        if self.sudo().search_count(
            [("company_id", "=", company.id), ("pain_message_id", "=", document.message_id)], limit=1
        ):
            raise DuplicateDocument(
                _("payment file id %s was already imported", document.message_id), file_name=message.file_name
            )
        attachment = (
            self.env["ir.attachment"]
            .sudo()
            .create(
                {
                    "name": message.file_name or f"{document.message_id}.xml",
                    "raw": data,
                    "company_id": company.id,
                    "mimetype": "application/xml",
                    "res_model": self._name,
                }
            )
        )
        batch = (
            self.sudo()
            .with_company(company)
            .create(
                {
                    "company_id": company.id,
                    "journal_id": journal.id,
                    "kind": "salary",
                    "source": "payroll_file",
                    "execution_date": min(info.execution_date for info in document.infos),
                    "pain_version": version,
                    "batch_booking": True,
                    "connection_id": self.env["heeros.link.connection"]._link_outbound_for(company).id or False,
                    "pain_message_id": document.message_id,
                    "payroll_attachment_id": attachment.id,
                }
            )
        )
        attachment.res_id = batch.id
        batch._heeros_link_payroll_lines(document)
        batch.message_post(
            body=_(
                "Salary batch received from the payroll system in Link message %s: "
                "approve it to send the file to the bank unchanged.",
                message.name,
            )
        )
        return batch

    def _heeros_link_payroll_journal(self, message, document):
        """The bank journal (and through it the company) whose account the
        payroll file debits; one account per file."""
        ibans = {stdnum_iban.compact(info.debtor.iban or "") for info in document.infos}
        if len(ibans) != 1 or not next(iter(ibans)):
            raise RecordError(
                _(
                    "a salary file debits one account; this one names %s",
                    ", ".join(sorted(i for i in ibans if i)) or _("none"),
                ),
                file_name=message.file_name,
                element="PmtInf/DbtrAcct",
            )
        iban = ibans.pop()
        journals = (
            self.env["account.journal"]
            .sudo()
            .search([("type", "=", "bank"), ("bank_account_id.sanitized_acc_number", "=", iban)])
        )
        message._link_route(journals.company_id, _("debtor account %s", iban))
        return journals.filtered(lambda j: j.company_id == message.company_id)[:1]

    def _heeros_link_payroll_lines(self, document):
        self.ensure_one()
        seen = {}
        for payment in document.payments:
            seen[payment.end_to_end_id or ""] = seen.get(payment.end_to_end_id or "", 0) + 1
        vals_list = []
        for info in document.infos:
            for payment in info.payments:
                own_id = payment.end_to_end_id or ""
                creditor = payment.creditor
                vals_list.append(
                    {
                        "batch_id": self.id,
                        "creditor_name": creditor.name or "-",
                        "iban": creditor.iban or creditor.other_account or "-",
                        "bic": creditor.bic or False,
                        "amount": float(payment.amount),
                        "currency_id": self._heeros_link_currency(payment.currency).id,
                        "reference": payment.reference or False,
                        "message": payment.message or False,
                        # the file's own id when it tells the payments apart: the bank answers with it
                        "end_to_end_id": own_id if own_id.upper() not in NO_ID and seen[own_id] == 1 else False,
                        "payment_info_id": info.payment_info_id,
                    }
                )
        return self.env["heeros.link.payment.line"].sudo().create(vals_list)

    def _heeros_link_currency(self, code):
        currency = self.env["res.currency"].with_context(active_test=False).search([("name", "=", code)], limit=1)
        if not currency:
            raise RecordError(_("currency %s is unknown", code), element="InstdAmt/@Ccy")
        return currency

    def _heeros_link_check_lines(self):
        # A payroll system's file is checked as a whole (schema, salaries only)
        # and goes to the bank as it is.
        if self.source == "payroll_file":
            return []
        return super()._heeros_link_check_lines()

    # ------------------------------------------------------------------
    # a salary list (CSV)
    # ------------------------------------------------------------------
    @api.model
    def _heeros_link_from_salary_list(self, data, file_name, journal, connection=None):
        """Salary batches (one per pay day) from a salary list; returns them."""
        try:
            salaries = salary_csv.parse(data, file_name)
        except LinkFormatError as exc:
            raise UserError(exc.describe()) from None
        company = journal.company_id
        connection = connection or self.env["heeros.link.connection"]._link_outbound_for(company)
        by_day = {}
        for salary in salaries:
            by_day.setdefault(salary.pay_date, []).append(salary)
        batches = self.browse()
        for day, rows in sorted(by_day.items()):
            batch = self.create(
                {
                    "company_id": company.id,
                    "journal_id": journal.id,
                    "kind": "salary",
                    "execution_date": day,
                    "batch_booking": True,
                    "connection_id": connection.id if connection else False,
                    "note": _("From salary list %s.", file_name or ""),
                }
            )
            self.env["heeros.link.payment.line"].create(
                [
                    {
                        "batch_id": batch.id,
                        "sequence": row.line,
                        "creditor_name": row.name,
                        "iban": row.iban,
                        "bic": row.bic or False,
                        "amount": float(row.amount),
                        "currency_id": company.currency_id.id,
                        "message": row.message or False,
                    }
                    for row in rows
                ]
            )
            batches |= batch
        return batches


class HeerosLinkMessageSalary(models.Model):
    _inherit = "heeros.link.message"

    def _attach_payloads(self, payloads, mimetype=None):
        # A pain.001 that arrives is a payroll file until shown otherwise: it is
        # hidden from everyone outside the Salary payments group from the start.
        attachments = super()._attach_payloads(payloads, mimetype)
        confidential = self.browse()
        for message, data in zip(self, payloads):
            # the namespace of the root element comes first in the file
            if message.direction == "in" and b"pain.001" in data[:4096]:
                try:
                    sniff = xmlsafe.sniff(data, message.file_name)
                except Exception:  # noqa: BLE001 - detection decides later; this only hides
                    continue
                if detect.is_pain001(sniff):
                    confidential |= message
        if confidential:
            confidential.sudo().write({"heeros_link_confidential": True})
        return attachments
