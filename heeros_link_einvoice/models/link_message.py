from odoo import api, fields, models
from odoo.addons.heeros_link_base.registry import DocumentType

from ..formats import detect

IMPORT_HANDLER = ("heeros.link.einvoice.import", "_link_handle_einvoice")

#: Outbound document types of e-invoicing.
OUTBOUND_TYPES = {
    "finvoice": "Finvoice e-invoice",
    "finvoice.attachments": "Finvoice attachments (PDF and files)",
    "peppol-bis3": "Peppol BIS Billing 3.0 e-invoice",
}


class HeerosLinkMessage(models.Model):
    _inherit = "heeros.link.message"

    @api.model
    def _link_document_types(self):
        types = super()._link_document_types()
        for code, label in OUTBOUND_TYPES.items():
            if code not in types:
                types[code] = DocumentType(code=code, label=label, direction="out")
        types["finvoice"] = DocumentType(
            code="finvoice",
            label=OUTBOUND_TYPES["finvoice"],
            detect=detect.is_finvoice,
            handler=IMPORT_HANDLER,
            priority=40,
            direction="both",
        )
        types["ubl"] = DocumentType(
            code="ubl",
            label="UBL / Peppol e-invoice",
            detect=detect.is_ubl_invoice,
            handler=IMPORT_HANDLER,
            priority=40,
        )
        return types

    def _link_state_changed(self, state):
        super()._link_state_changed(state)
        if state in ("error", "rejected"):
            self._heeros_link_einvoice_failed()

    def _heeros_link_einvoice_failed(self):
        """Tell the invoices whose e-invoice (or its attachments) failed."""
        messages = self.filtered(lambda m: m.direction == "out" and m.document_type in OUTBOUND_TYPES)
        if not messages:
            return
        Move = self.env["account.move"].sudo()
        moves = Move.search(
            [
                "|",
                ("heeros_link_message_id", "in", messages.ids),
                ("heeros_link_attachment_message_id", "in", messages.ids),
            ]
        )
        for message in messages:
            failed = moves.browse(
                [m.id for m in moves if message in (m.heeros_link_message_id | m.heeros_link_attachment_message_id)]
            )
            if failed:
                failed._heeros_link_failed(message)


class HeerosLinkConnection(models.Model):
    _inherit = "heeros.link.connection"

    finvoice_soap_frame = fields.Boolean(
        "Finvoice with SOAP frame",
        help="Write the ebXML SOAP frame in front of every Finvoice message, as the banks' "
        "e-invoice channel expects. Operators usually take the Finvoice alone.",
    )
