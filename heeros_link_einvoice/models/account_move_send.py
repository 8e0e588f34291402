from odoo import _, api, models


class AccountMoveSend(models.AbstractModel):
    """The "by Heeros Link" sending method of Send & Print.

    The format follows the preferred delivery of the invoice's e-invoice
    address: Finvoice or Peppol BIS Billing 3.0 are built, validated and
    queued as outbound Link messages on the company's connection; "PDF by
    e-mail" and "Printed letter" fall back to Odoo's own e-mail and download.
    Problems are recorded on each invoice (field and chatter) and never stop
    the other invoices of a batch.
    """

    _inherit = "account.move.send"

    @api.model
    def _heeros_link_fallback(self, move):
        """Odoo's own method for a customer who asked for PDF or paper, else None."""
        delivery = move._heeros_link_effective_address().delivery
        if delivery == "email":
            return "email"
        if delivery == "print":
            return "manual"
        return None

    @api.model
    def _heeros_link_preferred(self, move):
        """Whether the customer's e-invoice address asks for an e-invoice
        (Finvoice or Peppol), so that "by Heeros Link" is the natural choice."""
        if not self._is_applicable_to_move("heeros_link", move):
            return False
        return move._heeros_link_effective_address().delivery in ("finvoice", "peppol")

    @api.model
    def _get_default_sending_method(self, move) -> str:
        # EXTENDS account
        method = super()._get_default_sending_method(move)
        if method == "heeros_link":
            return self._heeros_link_fallback(move) or method
        chosen = move.partner_id.with_company(move.company_id).invoice_sending_method
        if not chosen and self._heeros_link_preferred(move):
            # no method chosen on the customer: its e-invoice address decides
            return "heeros_link"
        return method

    @api.model
    def _get_default_sending_settings(self, move, from_cron=False, **custom_settings):
        # EXTENDS account
        settings = super()._get_default_sending_settings(move, from_cron=from_cron, **custom_settings)
        methods = settings.get("sending_methods") or set()
        if "heeros_link" in methods:
            fallback = self._heeros_link_fallback(move)
            if fallback:
                custom = dict(custom_settings, sending_methods=(set(methods) - {"heeros_link"}) | {fallback})
                settings = super()._get_default_sending_settings(move, from_cron=from_cron, **custom)
        return settings

    @api.model
    def _is_applicable_to_move(self, method, move, **move_data):
        # EXTENDS account
        if method == "heeros_link":
            return move.move_type in ("out_invoice", "out_refund")
        return super()._is_applicable_to_move(method, move, **move_data)

    @api.model
    def _get_alerts(self, moves, moves_data):
        # EXTENDS account
        alerts = super()._get_alerts(moves, moves_data)
        link_moves = moves.filtered(lambda m: "heeros_link" in (moves_data[m].get("sending_methods") or ()))
        # the address the sending will use: one added to the customer after
        # the invoice was made counts too
        missing = link_moves.filtered(lambda m: not m._heeros_link_effective_address()).partner_id
        if missing:
            alerts["heeros_link_missing_address"] = {
                "level": "warning",
                "message": _(
                    "Some customers have no e-invoice address: their invoices will not be sent by Heeros Link."
                ),
                "action_text": _("View customers"),
                "action": missing.commercial_partner_id._get_records_action(name=_("Customers")),
            }
        return alerts

    @api.model
    def _call_web_service_before_invoice_pdf_render(self, invoices_data):
        # EXTENDS account: build and validate before the PDF is rendered, so an
        # invoice that cannot be sent costs no PDF
        super()._call_web_service_before_invoice_pdf_render(invoices_data)
        link_data = {
            move: data for move, data in invoices_data.items() if "heeros_link" in (data.get("sending_methods") or ())
        }
        for move in list(link_data):
            message = move.heeros_link_message_id
            if message.state in ("draft", "queued", "sending", "sent", "accepted"):
                # never a second e-invoice for the same invoice by accident
                del link_data[move]
                move.with_context(no_new_invoice=True).message_post(
                    body=_(
                        "The e-invoice was not sent again: it already went as Link message %(message)s "
                        "(%(state)s). Cancel that message first to send a new one.",
                        message=message.name,
                        state=message.state,
                    )
                )
        if not link_data:
            return
        moves = self.env["account.move"].browse([move.id for move in link_data]).sudo()
        documents = moves._heeros_link_documents()
        for move, data in link_data.items():
            document = documents[move]
            if document.get("errors"):
                data["error"] = {"error_title": document["title"], "errors": document["errors"]}
                data["heeros_link_error"] = True
                move._heeros_link_record_error(document["title"], document["errors"])
            else:
                data["heeros_link_document"] = document

    @api.model
    def _call_web_service_after_invoice_pdf_render(self, invoices_data):
        # EXTENDS account: queue the documents with the PDF next to them
        super()._call_web_service_after_invoice_pdf_render(invoices_data)
        documents, pdfs = {}, {}
        for move, data in invoices_data.items():
            document = data.get("heeros_link_document")
            if not document or data.get("error"):
                continue
            pdf = (
                (data.get("pdf_attachment_values") or {}).get("raw")
                or move.invoice_pdf_report_id.raw
                or (data.get("proforma_pdf_attachment_values") or {}).get("raw")
            )
            if document["format"] == "peppol" and pdf:
                document["data"] = self._heeros_link_embed_pdf(move, document["data"], data, pdf)
            documents[move] = document
            pdfs[move] = pdf
        if documents:
            self.env["account.move"].browse()._heeros_link_queue(documents, pdfs)

    @api.model
    def _heeros_link_embed_pdf(self, move, xml, data, pdf):
        """The Peppol invoice with its PDF (Odoo's own embedding)."""
        name = (
            (data.get("pdf_attachment_values") or {}).get("name")
            or move.invoice_pdf_report_id.name
            or move._get_invoice_report_filename()
        )
        holder = {
            "ubl_cii_xml_attachment_values": {"raw": xml},
            "ubl_cii_xml_options": {"builder": self.env["account.edi.xml.ubl_bis3"]},
            "pdf_attachment_values": {"name": name, "raw": pdf},
        }
        self._postprocess_invoice_ubl_xml(move, holder)
        return holder["ubl_cii_xml_attachment_values"]["raw"]

    @api.model
    def _hook_if_errors(self, moves_data, allow_raising=True):
        # EXTENDS account: Heeros Link problems are already on the invoice; they
        # never stop the sending of the others
        others = {move: data for move, data in moves_data.items() if not data.get("heeros_link_error")}
        if others:
            super()._hook_if_errors(others, allow_raising=allow_raising)
