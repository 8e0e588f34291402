from odoo import _, api, fields, models
from odoo.addons.heeros_link_base.registry import DocumentType
from odoo.tools.translate import LazyTranslate

from ..formats import detect, scan

_lt = LazyTranslate(__name__)
IMPORT_HANDLER = ("heeros.link.einvoice.import", "_link_handle_einvoice")

#: Outbound document types of e-invoicing.
OUTBOUND_TYPES = {
    "finvoice": _lt("Finvoice e-invoice"),
    "finvoice.attachments": _lt("Finvoice attachments (PDF and files)"),
    "peppol-bis3": _lt("Peppol BIS Billing 3.0 e-invoice"),
}


def _is_pdf(sniff):
    return not sniff.is_xml and scan.is_pdf(sniff.head)


def _is_zip(sniff):
    return not sniff.is_xml and scan.is_zip(sniff.head)


class HeerosLinkMessage(models.Model):
    _inherit = "heeros.link.message"

    @api.model
    def _link_document_types(self):
        types = super()._link_document_types()
        types.setdefault(
            "scan",
            DocumentType(
                code="scan",
                label=_lt("Scanned invoice (PDF)"),
                detect=_is_pdf,
                handler=("heeros.link.einvoice.scan", "_heeros_link_import_scan"),
                priority=200,
            ),
        )
        types.setdefault(
            "scan.delivery",
            DocumentType(
                code="scan.delivery",
                label=_lt("Scanning service delivery (ZIP)"),
                detect=_is_zip,
                handler=("heeros.link.einvoice.scan", "_heeros_link_import_scan_delivery"),
                priority=190,
            ),
        )
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
            label=_lt("UBL / Peppol e-invoice"),
            detect=detect.is_ubl_invoice,
            handler=IMPORT_HANDLER,
            priority=40,
        )
        return types

    @api.model
    def message_new(self, msg_dict, custom_values=None):
        """An e-mail to a Link alias: each PDF, ZIP or XML file attached
        becomes an inbound message of the alias's connection (set by a manager
        in the alias's default values: ``{"connection_id": <id>}``), processed
        by the next run. An e-mail without such a file is kept as a message in
        error, never dropped."""
        values = custom_values if isinstance(custom_values, dict) else {}
        connection = self.env["heeros.link.connection"].browse(values.get("connection_id") or []).exists()
        if not connection or connection.direction == "out":
            return super().message_new(msg_dict, custom_values)
        files = self._heeros_link_mail_files(msg_dict)
        if not files:
            files = [(_("e-mail without invoice.eml"), (msg_dict.get("body") or "").encode())]
        messages = self._link_intake(files, connection=connection, process=False)
        for message in messages:
            message.message_post(
                body=_(
                    "Received by e-mail from %(sender)s: %(subject)s",
                    sender=msg_dict.get("email_from") or "?",
                    subject=msg_dict.get("subject") or "",
                )
            )
        return messages[:1]

    @api.model
    def _heeros_link_mail_files(self, msg_dict):
        """``[(file name, bytes)]`` of the e-mail's attachments the Link reads."""
        files = []
        for attachment in msg_dict.get("attachments") or []:
            name, content = attachment[0], attachment[1]
            data = content.encode() if isinstance(content, str) else content
            if scan.is_pdf(data) or scan.is_zip(data) or (name or "").lower().endswith(".xml"):
                files.append((name or "attachment", data))
        return files

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
