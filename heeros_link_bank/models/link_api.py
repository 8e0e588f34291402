"""What the integration API returns of bank records, and the bank events
announced to webhooks (statement imported, balance updated, payment batch
feedback)."""

from odoo import models


def _iso(value):
    """A datetime (UTC) or date as ISO 8601, or None."""
    if not value:
        return None
    if hasattr(value, "hour"):
        return value.replace(microsecond=0).isoformat() + "Z"
    return value.isoformat()


def _currency(record):
    return (record.currency_id or record.company_id.currency_id).name


class AccountBankStatementApi(models.Model):
    _inherit = "account.bank.statement"

    def _heeros_link_api_values(self):
        return [
            {
                "id": statement.id,
                "name": statement.name or None,
                "company_id": statement.company_id.id,
                "journal_id": statement.journal_id.id,
                "iban": statement.journal_id.bank_account_id.sanitized_acc_number or None,
                "date": _iso(statement.date),
                "currency": _currency(statement),
                "balance_start": statement.balance_start,
                "balance_end": statement.balance_end_real,
                "line_count": len(statement.line_ids),
                "message_id": statement.heeros_link_bank_message_id.id or None,
                "balance_warning": statement.heeros_link_balance_warning or None,
                "created_at": _iso(statement.create_date),
                "changed_at": _iso(statement.write_date),
            }
            for statement in self
        ]


class AccountBankStatementLineApi(models.Model):
    _inherit = "account.bank.statement.line"

    def _heeros_link_api_values(self):
        return [
            {
                "id": line.id,
                "statement_id": line.statement_id.id or None,
                "journal_id": line.journal_id.id,
                "company_id": line.company_id.id,
                "date": _iso(line.date),
                "amount": line.amount,
                "currency": _currency(line),
                "payment_ref": line.payment_ref or None,
                "partner_id": line.partner_id.id or None,
                "partner_name": line.partner_name or None,
                "account_number": line.account_number or None,
                "reference": line.heeros_link_reference or None,
                "archive_id": line.heeros_link_archive_id or None,
                "fi_code": line.heeros_link_fi_code or None,
                "iso_code": line.heeros_link_iso_code or None,
                "match_state": line.heeros_link_match_state or None,
                "invoice_ids": line.heeros_link_invoice_ids.ids,
                "is_reconciled": line.is_reconciled,
                "message_id": line.heeros_link_bank_message_id.id or None,
            }
            for line in self
        ]


class HeerosLinkBankBalanceApi(models.Model):
    _inherit = "heeros.link.bank.balance"

    def _heeros_link_api_values(self):
        return [
            {
                "id": balance.id,
                "journal_id": balance.journal_id.id,
                "company_id": balance.company_id.id,
                "iban": balance.iban or None,
                "currency": balance.currency_id.name,
                "booked_amount": balance.booked_amount,
                "booked_date": _iso(balance.booked_date),
                "booked_at": _iso(balance.booked_at),
                "available_amount": balance.available_amount,
                "available_date": _iso(balance.available_date),
                "available_at": _iso(balance.available_at),
                "credit_line": balance.credit_line,
                "message_id": balance.message_id.id or None,
                "source": balance.source or None,
            }
            for balance in self
        ]


class HeerosLinkPaymentLineApi(models.Model):
    _inherit = "heeros.link.payment.line"

    def _heeros_link_api_values(self):
        return [
            {
                "id": line.id,
                "batch_id": line.batch_id.id,
                "state": line.state,
                "creditor_name": line.creditor_name or None,
                "iban": line.iban or None,
                "amount": line.amount,
                "currency": line.currency_id.name,
                "reference": line.reference or None,
                "end_to_end_id": line.end_to_end_id or None,
                "bill_id": line.move_id.id or None,
                "status_code": line.status_code or None,
                "reason_code": line.reason_code or None,
                "reason_text": line.reason_text or None,
            }
            for line in self
        ]


class HeerosLinkPaymentBatchApi(models.Model):
    _inherit = "heeros.link.payment.batch"

    def _heeros_link_api_values(self, with_payments=False):
        values = []
        for batch in self:
            item = {
                "id": batch.id,
                "name": batch.name,
                "company_id": batch.company_id.id,
                "journal_id": batch.journal_id.id or None,
                "kind": batch.kind,
                "state": batch.state,
                "execution_date": _iso(batch.execution_date),
                "amount_total": batch.amount_total,
                "currency": _currency(batch),
                "payment_count": len(batch.line_ids),
                "pain_message_id": batch.pain_message_id or None,
                "sent_at": _iso(batch.sent_at),
                "feedback_at": _iso(batch.feedback_at),
                "feedback_state": batch.feedback_state or None,
                "message_ids": batch.heeros_link_message_ids.ids,
                "changed_at": _iso(batch.write_date),
            }
            if with_payments:
                item["payments"] = batch.line_ids.sorted("id")._heeros_link_api_values()
            values.append(item)
        return values

    def _heeros_link_apply_feedback(self, run, verdicts):
        changed = super()._heeros_link_apply_feedback(run, verdicts)
        if changed:
            self.env["heeros.link.webhook"].sudo()._link_notify(
                "payment_batch.feedback",
                self.company_id,
                {"batch": self._heeros_link_api_values(with_payments=True)[0]},
            )
        return changed


class HeerosLinkBankImportWebhooks(models.AbstractModel):
    _inherit = "heeros.link.bank.import"

    def _link_import(self, message, kind):
        outcome = super()._link_import(message, kind)
        if outcome.state == "processed":
            self._heeros_link_announce(message)
        return outcome

    def _heeros_link_announce(self, message):
        """Announce the statements and balances a processed bank file made."""
        Webhook = self.env["heeros.link.webhook"].sudo()
        statements = (
            self.env["account.bank.statement"].sudo().search([("heeros_link_bank_message_id", "=", message.id)])
        )
        for statement in statements:
            if Webhook._link_has_subscribers("statement.imported", statement.company_id):
                Webhook._link_notify(
                    "statement.imported",
                    statement.company_id,
                    {"statement": statement._heeros_link_api_values()[0], "message_id": message.id},
                )
        balances = self.env["heeros.link.bank.balance"].sudo().search([("message_id", "=", message.id)])
        for balance in balances:
            if Webhook._link_has_subscribers("balance.updated", balance.company_id):
                Webhook._link_notify(
                    "balance.updated", balance.company_id, {"balance": balance._heeros_link_api_values()[0]}
                )
