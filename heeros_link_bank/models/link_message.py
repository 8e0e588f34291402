from odoo import api, fields, models
from odoo.addons.heeros_link_base.registry import DocumentType
from odoo.tools.translate import LazyTranslate

from ..formats import detect

HANDLER_MODEL = "heeros.link.bank.import"
_lt = LazyTranslate(__name__)


class HeerosLinkMessage(models.Model):
    _inherit = "heeros.link.message"

    bank_warning = fields.Text(
        "Warning",
        readonly=True,
        copy=False,
        help="Something in a processed bank file needs a person's attention: balances that do "
        "not add up, an itemisation that could not replace its lump sum. The file itself was "
        "imported.",
    )
    bank_has_warning = fields.Boolean(
        "Has warning", compute="_compute_bank_has_warning", store=True, index="btree_not_null"
    )
    bank_statement_ids = fields.One2many(
        "account.bank.statement", "heeros_link_bank_message_id", "Bank statements", readonly=True
    )
    bank_statement_count = fields.Integer(compute="_compute_bank_statement_count")

    @api.depends("bank_warning")
    def _compute_bank_has_warning(self):
        for message in self:
            message.bank_has_warning = bool(message.bank_warning)

    def _compute_bank_statement_count(self):
        for message in self:
            message.bank_statement_count = len(message.bank_statement_ids)

    @api.model
    def _link_document_types(self):
        """One document type per bank format of
        ``heeros.link.bank.import._link_bank_formats()``: its detector, and
        as handler the import (or the format's own handler)."""
        types = super()._link_document_types()
        for code, described in self.env[HANDLER_MODEL]._link_bank_formats().items():
            handler = described.handler or ((HANDLER_MODEL, "_link_handle_bank_file") if described.imported else None)
            types[code] = DocumentType(
                code=code,
                label=described.label,
                detect=described.detect,
                handler=handler,
                priority=described.priority,
                direction=described.direction,
            )
        return types

    def action_view_bank_statements(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id("account.action_bank_statement_tree")
        action.update({"domain": [("heeros_link_bank_message_id", "=", self.id)], "context": {}})
        return action


class HeerosLinkMessageConfidential(models.Model):
    _inherit = "heeros.link.message"

    heeros_link_confidential = fields.Boolean(
        "Confidential",
        readonly=True,
        copy=False,
        index=True,
        help="A salary file: visible only to the Salary payments group.",
    )

    @api.model
    def _link_document_types(self):
        types = super()._link_document_types()
        types["pain.001"] = DocumentType(
            code="pain.001",
            label=_lt("Payment order (pain.001)"),
            detect=detect.is_pain001,
            handler=("heeros.link.payment.batch", "_heeros_link_handle_payroll_pain001"),
            priority=50,
            direction="both",
        )
        return types

    def _link_state_changed(self, state):
        super()._link_state_changed(state)
        if state != "sent":
            return
        Batch = self.env["heeros.link.payment.batch"].sudo()
        for message in self.filtered(lambda m: m.direction == "out" and m.document_type == "pain.001"):
            Batch.search([("heeros_link_message_ids", "in", message.id)])._heeros_link_message_sent(message)


class HeerosLinkMessageLinkConfidential(models.Model):
    _inherit = "heeros.link.message.link"

    heeros_link_confidential = fields.Boolean(related="message_id.heeros_link_confidential", store=True, index=True)
