"""What a bookkeeper reads and clicks on bank records the Link produced:
the statement's balance check, readable transaction codes, matching an
unmatched reference payment by hand."""

import re

from odoo import _, api, fields, models
from odoo.exceptions import UserError

from .link_overview import DEFAULT_STALE_DAYS, STALE_PARAM

#: A Finnish transaction code glued to its text, as KTL and TITO give it ("710TILISIIRTO").
_GLUED_CODE = re.compile(r"^(\d{3})(?=[^\d\s])")


def readable_transaction(text):
    """``"710TILISIIRTO (PMNT/RCDT/ESCT)"`` -> ``"710 TILISIIRTO (PMNT/RCDT/ESCT)"``."""
    return _GLUED_CODE.sub(r"\1 ", text or "").strip()


class AccountBankStatementLink(models.Model):
    _inherit = "account.bank.statement"

    heeros_link_entries_total = fields.Monetary(
        "Entries", compute="_compute_heeros_link_entries_total", currency_field="currency_id"
    )

    @api.depends("line_ids.amount")
    def _compute_heeros_link_entries_total(self):
        for statement in self:
            statement.heeros_link_entries_total = sum(statement.line_ids.mapped("amount"))

    def action_heeros_link_open_message(self):
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "res_model": "heeros.link.message",
            "res_id": self.heeros_link_bank_message_id.id,
            "views": [(False, "form")],
        }


class AccountBankStatementLineLink(models.Model):
    _inherit = "account.bank.statement.line"

    heeros_link_transaction_label = fields.Char(
        "Transaction", compute="_compute_heeros_link_transaction_label", help="The bank's transaction code and text."
    )

    @api.depends("transaction_type")
    def _compute_heeros_link_transaction_label(self):
        for line in self:
            line.heeros_link_transaction_label = readable_transaction(line.transaction_type) or False

    @api.model
    def _heeros_link_reconcile_view_installed(self):
        """Whether OCA's reconciliation view (account_reconcile_oca) is installed."""
        return bool(
            self.env["ir.module.module"]
            .sudo()
            .search_count([("name", "=", "account_reconcile_oca"), ("state", "=", "installed")])
        )

    heeros_link_reconcile_view = fields.Boolean(
        compute="_compute_heeros_link_reconcile_view", help="OCA's reconciliation view is installed."
    )

    def _compute_heeros_link_reconcile_view(self):
        installed = self._heeros_link_reconcile_view_installed()
        for line in self:
            line.heeros_link_reconcile_view = installed

    def action_heeros_link_match(self):
        """Match this payment by hand with open invoices, in the Link's dialog."""
        self.ensure_one()
        self.check_access("read")
        if self.is_reconciled:
            raise UserError(_("This payment is already reconciled."))
        return {
            "type": "ir.actions.act_window",
            "name": _("Match with an invoice"),
            "res_model": "heeros.link.match.wizard",
            "views": [(False, "form")],
            "target": "new",
            "context": {"default_line_id": self.id},
        }

    def action_heeros_link_reconcile_view(self):
        """Open this payment in OCA's reconciliation view (account_reconcile_oca)."""
        self.ensure_one()
        if not self._heeros_link_reconcile_view_installed():
            raise UserError(_("The reconciliation view (OCA's account_reconcile_oca) is not installed."))
        return self._heeros_link_reconcile_view_action()

    def _heeros_link_reconcile_view_action(self):
        action = self.env["ir.actions.act_window"]._for_xml_id(
            "account_reconcile_oca.action_bank_statement_line_reconcile"
        )
        action.update(
            {
                "domain": [("id", "=", self.id)],
                "context": {
                    "default_journal_id": self.journal_id.id,
                    "active_id": self.journal_id.id,
                    "view_ref": "account_reconcile_oca.bank_statement_line_form_reconcile_view",
                },
            }
        )
        return action

    def _heeros_link_match_invoices(self, invoices):
        """Reconcile this payment with the open receivable items of
        ``invoices`` through Odoo's reconciliation, as the automatic
        reference matching does; its match state and invoices follow."""
        self.ensure_one()
        if self.is_reconciled:
            raise UserError(_("This payment is already reconciled."))
        if invoices.filtered(lambda m: m.company_id != self.company_id):
            raise UserError(_("Only invoices of %s can be matched with this payment.", self.company_id.name))
        receivables = invoices.line_ids.filtered(
            lambda aml: aml.account_id.account_type == "asset_receivable" and not aml.reconciled
        )
        if not receivables:
            raise UserError(_("The chosen invoices have nothing open to pay."))
        _liquidity, suspense, _other = self._seek_for_lines()
        if not suspense:
            raise UserError(_("This payment has no open amount left to match."))
        suspense.write(
            {"account_id": receivables[0].account_id.id, "partner_id": invoices[:1].commercial_partner_id.id}
        )
        self.env["account.move.line"]._reconcile_plan([suspense | receivables])
        if not self.is_reconciled:
            state = "overpaid"  # the rest stays open on the partner
        elif all(invoice.currency_id.is_zero(invoice.amount_residual) for invoice in invoices):
            state = "paid"
        else:
            state = "partial"
        self.sudo().write(
            {
                "heeros_link_match_state": state,
                "heeros_link_invoice_ids": [(4, invoice.id) for invoice in invoices],
                "partner_id": invoices[:1].commercial_partner_id.id,
            }
        )
        message = self.heeros_link_bank_message_id
        if message:
            message.sudo().message_post(
                body=_(
                    "%(user)s matched the payment of %(date)s (reference %(ref)s) with %(invoices)s.",
                    user=self.env.user.name,
                    date=fields.Date.to_string(self.date),
                    ref=self.heeros_link_reference or "-",
                    invoices=", ".join(invoices.mapped("name")),
                )
            )
        return state


class ResConfigSettingsOverview(models.TransientModel):
    _inherit = "res.config.settings"

    heeros_link_stale_banking_days = fields.Integer(
        "Statement overdue after (banking days)",
        config_parameter=STALE_PARAM,
        default=DEFAULT_STALE_DAYS,
        help="The Link overview flags a bank account with no statement for more than this many banking days.",
    )
