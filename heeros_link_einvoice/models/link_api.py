"""What the integration API returns of invoices and bills, and the
e-invoice events announced to webhooks (invoice delivered / failed)."""

from odoo import models

from .link_message import OUTBOUND_TYPES

#: Outbound message states announced, and their event.
DELIVERY_EVENTS = {"accepted": "invoice.delivered", "error": "invoice.failed", "rejected": "invoice.failed"}


def _iso(value):
    if not value:
        return None
    if hasattr(value, "hour"):
        return value.replace(microsecond=0).isoformat() + "Z"
    return value.isoformat()


class AccountMoveApi(models.Model):
    _inherit = "account.move"

    def _heeros_link_api_values(self):
        """Invoices and bills as the integration API returns them."""
        return [
            {
                "id": move.id,
                "name": move.name or None,
                "move_type": move.move_type,
                "company_id": move.company_id.id,
                "partner_id": move.partner_id.id or None,
                "partner_name": move.partner_id.display_name or None,
                "state": move.state,
                "invoice_date": _iso(move.invoice_date),
                "due_date": _iso(move.invoice_date_due),
                "ref": move.ref or None,
                "payment_reference": move.payment_reference or None,
                "currency": move.currency_id.name,
                "amount_untaxed": move.amount_untaxed,
                "amount_total": move.amount_total,
                "amount_residual": move.amount_residual,
                "payment_state": move.payment_state or None,
                "einvoice_state": move.heeros_link_state or None,
                "einvoice_error": move.heeros_link_error or None,
                "einvoice_message_id": move.heeros_link_message_id.id or None,
                "received_message_id": move.heeros_link_in_message_id.id or None,
                "received_format": move.heeros_link_in_format or None,
                "changed_at": _iso(move.write_date),
            }
            for move in self
        ]


class HeerosLinkMessageInvoiceEvents(models.Model):
    _inherit = "heeros.link.message"

    def _link_state_changed(self, state):
        super()._link_state_changed(state)
        event = DELIVERY_EVENTS.get(state)
        if not event:
            return
        messages = self.filtered(lambda m: m.direction == "out" and m.document_type in OUTBOUND_TYPES)
        if not messages:
            return
        Webhook = self.env["heeros.link.webhook"].sudo()
        moves = self.env["account.move"].sudo().search([("heeros_link_message_id", "in", messages.ids)])
        for move in moves:
            if Webhook._link_has_subscribers(event, move.company_id):
                Webhook._link_notify(
                    event,
                    move.company_id,
                    {
                        "invoice": move._heeros_link_api_values()[0],
                        "message": move.heeros_link_message_id._link_api_values()[0],
                    },
                )
