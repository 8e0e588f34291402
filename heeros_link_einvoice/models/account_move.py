import re
from datetime import UTC, datetime, timedelta

from markupsafe import Markup

from odoo import _, api, fields, models
from odoo.addons.heeros_link_base.formats import reference as fi_reference
from odoo.addons.heeros_link_base.formats import xmlsafe
from odoo.addons.heeros_link_base.formats.errors import LinkFormatError
from odoo.exceptions import UserError

from ..formats import barcode as fi_barcode
from ..formats import finvoice as fv
from ..formats import schematron, xsd

LINK_STATES = [
    ("queued", "Queued"),
    ("sent", "Sent"),
    ("delivered", "Delivered"),
    ("failed", "Failed"),
]
MESSAGE_TO_LINK_STATE = {
    "draft": "queued",
    "queued": "queued",
    "sending": "queued",
    "sent": "sent",
    "accepted": "delivered",
    "rejected": "failed",
    "error": "failed",
    "cancelled": "failed",
}
#: Finvoice attachment messages carry these kinds of files.
ATTACHMENT_MIMETYPES = ("application/pdf", "image/png", "image/jpeg", "image/tiff")


def _safe_name(name):
    return re.sub(r"[^A-Za-z0-9._-]+", "_", name or "invoice").strip("_") or "invoice"


def _clip_file_name(name, size=50):
    if len(name) <= size:
        return name if len(name) >= 3 else f"{name}___"[:3]
    stem, dot, ext = name.rpartition(".")
    if not dot or len(ext) > 10:
        return name[:size]
    return f"{stem[: size - len(ext) - 1]}.{ext}"


class AccountMove(models.Model):
    _inherit = "account.move"

    heeros_link_einvoice_address_id = fields.Many2one(
        "heeros.link.einvoice.address",
        "E-invoice address",
        compute="_compute_heeros_link_einvoice_address_id",
        store=True,
        readonly=False,
        copy=False,
        index="btree_not_null",
        domain="[('partner_id', 'in', (partner_id, commercial_partner_id))]",
        help="Where the e-invoice goes; by default the customer's (or its company's) default address.",
    )
    heeros_link_delivery = fields.Selection(
        related="heeros_link_einvoice_address_id.delivery", string="Preferred delivery"
    )
    heeros_link_message_id = fields.Many2one(
        "heeros.link.message",
        "E-invoice message",
        readonly=True,
        copy=False,
        index="btree_not_null",
        ondelete="set null",
        check_company=True,
    )
    heeros_link_attachment_message_id = fields.Many2one(
        "heeros.link.message",
        "Attachment message",
        readonly=True,
        copy=False,
        index="btree_not_null",
        ondelete="set null",
        check_company=True,
    )
    heeros_link_state = fields.Selection(
        LINK_STATES,
        "E-invoice status",
        compute="_compute_heeros_link_state",
        store=True,
        copy=False,
        index="btree_not_null",
    )
    heeros_link_error = fields.Text("E-invoice error", readonly=True, copy=False)
    heeros_link_delivered_date = fields.Datetime(
        related="heeros_link_message_id.delivered_date", string="E-invoice delivered on"
    )
    heeros_link_operator_ref = fields.Char(related="heeros_link_message_id.remote_id", string="Operator's id")
    heeros_link_unconfirmed = fields.Boolean(
        "Delivery unconfirmed",
        readonly=True,
        copy=False,
        index=True,
        help="Sent through an operator that reports deliveries, and still not confirmed delivered "
        "after the company's number of days.",
    )
    heeros_link_scan_review = fields.Boolean(
        "Scan to review",
        copy=False,
        tracking=True,
        help="Made from a scanned or printed invoice: check the values read against the attached file.",
    )
    heeros_link_scan_data = fields.Text("Read from the scan", readonly=True, copy=False)
    heeros_link_message_count = fields.Integer(compute="_compute_heeros_link_message_count")
    heeros_link_disputed = fields.Boolean(
        "Disputed",
        copy=False,
        tracking=True,
        help="The customer disputes this invoice: no payment reminders are sent for it.",
    )
    heeros_link_penalty_rate = fields.Float(
        "Agreed penalty interest (%)",
        digits=(5, 3),
        compute="_compute_heeros_link_penalty_rate",
        store=True,
        readonly=False,
        help="Penalty interest agreed for this invoice. Zero: the Interest Act rate.",
    )
    heeros_link_reminder_ids = fields.One2many("heeros.link.reminder", "move_id", "Payment reminders")
    heeros_link_reminder_count = fields.Integer(compute="_compute_heeros_link_reminder_count")

    # ------------------------------------------------------------------
    # computes
    # ------------------------------------------------------------------
    @api.depends("partner_id")
    def _compute_heeros_link_einvoice_address_id(self):
        for move in self:
            if not move.is_sale_document(include_receipts=False) or not move.partner_id:
                move.heeros_link_einvoice_address_id = False
                continue
            current = move.heeros_link_einvoice_address_id
            allowed = move.partner_id | move.partner_id.commercial_partner_id
            if current and current.partner_id in allowed:
                continue
            move.heeros_link_einvoice_address_id = move.partner_id._heeros_link_default_address()

    @api.depends("partner_id")
    def _compute_heeros_link_penalty_rate(self):
        for move in self:
            move.heeros_link_penalty_rate = move.partner_id.commercial_partner_id.heeros_link_penalty_rate

    @api.depends("heeros_link_message_id.state", "heeros_link_error")
    def _compute_heeros_link_state(self):
        for move in self:
            if move.heeros_link_error:
                move.heeros_link_state = "failed"
            else:
                move.heeros_link_state = MESSAGE_TO_LINK_STATE.get(move.heeros_link_message_id.state, False)

    def _compute_heeros_link_message_count(self):
        rows = (
            self.env["heeros.link.message.link"]
            .sudo()
            ._read_group([("res_model", "=", "account.move"), ("res_id", "in", self.ids)], ["res_id"], ["__count"])
        )
        counts = dict(rows)
        for move in self:
            move.heeros_link_message_count = counts.get(move.id, 0)

    def _compute_heeros_link_reminder_count(self):
        for move in self:
            move.heeros_link_reminder_count = len(move.heeros_link_reminder_ids)

    # ------------------------------------------------------------------
    # small helpers used by the formats
    # ------------------------------------------------------------------
    def _heeros_link_buyer_reference(self):
        self.ensure_one()
        return self.ref or self.commercial_partner_id.ref or ""

    def _heeros_link_penalty_rate(self, day=None):
        """The penalty interest rate of this invoice (agreed, else the Interest
        Act rate on ``day``), or None when the reference rate is unknown."""
        self.ensure_one()
        if self.heeros_link_penalty_rate:
            return self.heeros_link_penalty_rate
        day = day or self.invoice_date or fields.Date.context_today(self)
        try:
            return self.company_id._heeros_link_legal_penalty_rate(day)
        except UserError:
            return None

    def _heeros_link_effective_address(self):
        """The e-invoice address the invoice goes to: its own, else the one
        the customer (or its company) got after the invoice was made."""
        self.ensure_one()
        address = self.heeros_link_einvoice_address_id
        if address or not self.partner_id or not self.is_sale_document(include_receipts=False):
            return address
        return self.partner_id._heeros_link_default_address()

    def _heeros_link_format(self):
        """'finvoice', 'peppol' or None (PDF by e-mail or print)."""
        self.ensure_one()
        address = self.heeros_link_einvoice_address_id
        if not address:
            return "finvoice"
        return address.delivery if address.delivery in ("finvoice", "peppol") else None

    def _heeros_link_barcode_values(self):
        """What the invoice PDF prints under the bank bar code, or False.

        Only for customer invoices in euros paid to a Finnish IBAN, with a valid
        Finnish or RF reference and something left to pay."""
        self.ensure_one()
        iban = "".join((self.partner_bank_id.acc_number or "").split()).upper()
        reference = fi_reference.compact(self.payment_reference or "")
        if (
            self.move_type != "out_invoice"
            or self.currency_id.name != "EUR"
            or not iban.startswith("FI")
            or not reference
            or not fi_reference.kind(reference)
        ):
            return False
        amount = self.amount_residual if self.state == "posted" else self.amount_total
        if self.currency_id.compare_amounts(amount, 0.0) <= 0:
            return False
        try:
            code = fi_barcode.virtual_barcode(iban, f"{amount:.2f}", reference, self.invoice_date_due)
        except LinkFormatError:
            return False
        return {
            "code": code,
            "image": fi_barcode.barcode_data_uri(code),
            "reference": fi_reference.format(reference),
            "iban": " ".join(iban[i : i + 4] for i in range(0, len(iban), 4)),
        }

    # ------------------------------------------------------------------
    # building and validating
    # ------------------------------------------------------------------
    def _heeros_link_documents(self, timestamp=None):
        """Build and validate the e-invoice of every invoice of ``self``.

        Returns ``{move: document}``; a document is a dict with ``format``
        (``finvoice``/``peppol``), ``data``, ``file_name`` and, for Finvoice,
        the ``finvoice`` dataclass; or, when the invoice cannot be sent,
        ``title`` and ``errors`` (a list of sentences).
        """
        timestamp = timestamp or datetime.now(UTC).replace(microsecond=0)
        documents = {}
        by_format = {"finvoice": self.browse(), "peppol": self.browse()}
        for move in self.filtered(lambda m: not m.heeros_link_einvoice_address_id):
            # an address added to the customer after the invoice was made
            address = move.partner_id._heeros_link_default_address()
            if address:
                move.sudo().heeros_link_einvoice_address_id = address
        for move in self:
            fmt = move._heeros_link_format()
            if fmt is None:
                documents[move] = {
                    "title": _("The customer does not receive e-invoices."),
                    "errors": [_("The preferred delivery of the e-invoice address is %s.", move.heeros_link_delivery)],
                }
            else:
                by_format[fmt] |= move
        if by_format["finvoice"]:
            documents.update(by_format["finvoice"]._heeros_link_finvoice_documents(timestamp))
        for move in by_format["peppol"]:
            documents[move] = move._heeros_link_peppol_document()
        return documents

    def _heeros_link_finvoice_documents(self, timestamp):
        builder = self.env["heeros.link.finvoice.builder"]
        state = builder._finvoice_batch(timestamp)
        title = _("The Finvoice e-invoice cannot be built:")
        documents = {}
        for move in self:
            invoice = builder._finvoice_invoice(move, state)
            if isinstance(invoice, list):
                documents[move] = {"title": title, "errors": [str(p) for p in invoice]}
                continue
            if move.company_id.heeros_link_send_attachments:
                invoice.attachment_message_id = fv.attachment_message_id(invoice.transmission.message_id)
            try:
                data = fv.build(invoice)
            except LinkFormatError as exc:
                documents[move] = {"title": title, "errors": list(getattr(exc, "errors", []) or [exc.message])}
                continue
            documents[move] = {
                "format": "finvoice",
                "data": data,
                "file_name": f"finvoice_{_safe_name(move.name)}.xml",
                "finvoice": invoice,
            }
        return documents

    def _heeros_link_peppol_document(self):
        self.ensure_one()
        title = _("The Peppol BIS Billing 3.0 invoice cannot be sent:")
        errors = []
        address = self.heeros_link_einvoice_address_id
        if not (address.peppol_eas and address.peppol_endpoint):
            errors.append(_("The customer's e-invoice address has no Peppol endpoint."))
        own = self.company_id._heeros_link_own_address()
        if not (own.peppol_eas and own.peppol_endpoint):
            errors.append(
                _("The company %s has no own e-invoice address with a Peppol endpoint.", self.company_id.name)
            )
        reference = self.payment_reference
        if (
            reference
            and not fi_reference.kind(reference)
            and self.move_type == "out_invoice"
            and self.journal_id.invoice_reference_model in ("fi", "fi_rf")
        ):
            errors.append(
                _(
                    "Payment reference %s is neither a valid Finnish reference nor a valid RF creditor reference.",
                    reference,
                )
            )
        if errors:
            return {"title": title, "errors": errors}
        builder = self.env["account.edi.xml.ubl_bis3"]
        data, export_errors = builder._export_invoice(self)
        if export_errors:
            return {"title": title, "errors": sorted(str(e) for e in export_errors)}
        errors = self._heeros_link_check_ubl(data)
        if errors:
            return {"title": _("The Peppol BIS Billing 3.0 invoice breaks the rules:"), "errors": errors}
        return {"format": "peppol", "data": data, "file_name": builder._export_invoice_filename(self)}

    def _heeros_link_check_ubl(self, data):
        """XSD and CEN + Peppol schematron findings that block sending."""
        schema = "ubl-creditnote" if self.move_type == "out_refund" else "ubl-invoice"
        try:
            # parsed once for both checks
            root = xmlsafe.parse(data, file_name=self.name) if len(data) <= xsd.STREAM_CHECK_BYTES else data
            violation = xsd.validate(root, schema, file_name=self.name)
            if violation is not None:
                return list(violation.errors) or [violation.message]
            findings = schematron.validate_ubl(root, file_name=self.name)
        except LinkFormatError as exc:
            return [exc.describe()]
        return [finding.describe() for finding in schematron.fatal(findings)]

    def _heeros_link_rule_findings(self, data, file_name=None):
        """The EN 16931 and Peppol rules on a received UBL invoice, as lines
        to show on the bill: warnings for the person who checks it, never a
        reason to refuse the document (see ``schematron.describe_findings``).
        The inbound UBL import calls it; override it to run other rules."""
        return schematron.describe_findings(data, file_name=file_name)

    # ------------------------------------------------------------------
    # queueing
    # ------------------------------------------------------------------
    def _heeros_link_invoice_attachments(self, pdf):
        """The files of the Finvoice attachment message: the invoice PDF, then
        the PDFs and images attached to the invoice."""
        self.ensure_one()
        files = []
        if pdf:
            files.append(
                fv.Attachment(
                    name=_clip_file_name(_safe_name(self._get_invoice_report_filename())),
                    mime_type="application/pdf",
                    content=pdf,
                )
            )
        skip = self.invoice_pdf_report_id
        if "ubl_cii_xml_id" in self._fields:
            skip |= self.ubl_cii_xml_id
        others = (
            self.env["ir.attachment"]
            .sudo()
            .search(
                [
                    ("res_model", "=", "account.move"),
                    ("res_id", "=", self.id),
                    ("mimetype", "in", ATTACHMENT_MIMETYPES),
                    ("id", "not in", skip.ids),
                ],
                order="id",
            )
        )
        for attachment in others:
            files.append(
                fv.Attachment(
                    name=_clip_file_name(_safe_name(attachment.name)),
                    mime_type=attachment.mimetype,
                    content=attachment.raw or b"",
                )
            )
        return files

    def _heeros_link_queue(self, documents, pdfs=None):
        """Queue the built documents as outbound Link messages linked to their
        invoices; returns ``{move: message}``."""
        Message = self.env["heeros.link.message"].sudo()
        Connection = self.env["heeros.link.connection"].sudo()
        pdfs = pdfs or {}
        connections = {}
        queued = {}
        for move, document in documents.items():
            company = move.company_id
            if company.id not in connections:
                connections[company.id] = Connection._link_outbound_for(company)
            connection = connections[company.id]
            data = document["data"]
            invoice = document.get("finvoice")
            framed = bool(invoice is not None and connection and connection.finvoice_soap_frame)
            if framed:
                data = fv.build_soap_envelope(invoice) + data
            doc_type = "finvoice" if document["format"] == "finvoice" else "peppol-bis3"
            message = Message._link_queue(
                doc_type,
                document["file_name"],
                data,
                company,
                connection=connection,
                records=move,
                external_ref=move.name,
            )
            vals = {
                "heeros_link_message_id": message.id,
                "heeros_link_error": False,
                "heeros_link_attachment_message_id": False,
            }
            attachment_message = Message
            operator = bool(connection) and connection._link_is_operator()
            if operator and invoice is not None and invoice.attachment_message_id and message.state != "error":
                # an operator takes the PDF and attachments together with the invoice
                files = move._heeros_link_invoice_attachments(pdfs.get(move))
                message._link_attach_parts([(f.name, f.content) for f in files])
            elif invoice is not None and invoice.attachment_message_id and message.state != "error":
                files = move._heeros_link_invoice_attachments(pdfs.get(move))
                if files:
                    attachment_data = fv.build_attachment_message(invoice, files)
                    if framed:
                        trans = invoice.transmission
                        attachment_data = (
                            fv.build_soap_envelope(
                                fv.Transmission(
                                    message_id=invoice.attachment_message_id,
                                    timestamp=trans.timestamp,
                                    sender=invoice.seller.einvoice_address,
                                    receiver=invoice.buyer.einvoice_address,
                                    ref_to_message_id=trans.message_id,
                                ),
                                reference_id="FinvoiceAttachments",
                            )
                            + attachment_data
                        )
                    attachment_message = Message._link_queue(
                        "finvoice.attachments",
                        document["file_name"].replace(".xml", "_attachments.xml"),
                        attachment_data,
                        company,
                        connection=connection,
                        records=move,
                        external_ref=move.name,
                        parent=message,
                    )
                    vals["heeros_link_attachment_message_id"] = attachment_message.id
            move.sudo().write(vals)
            queued[move] = message
            if message.state == "error":
                move._heeros_link_failed(message)
            else:
                body = _(
                    "E-invoice (%(format)s) queued for sending as Link message %(message)s.",
                    format=dict(Message._selection_document_type()).get(doc_type, doc_type),
                    message=message.name,
                )
                if attachment_message:
                    body += " " + _("Attachments travel in %s.", attachment_message.name)
                move.with_context(no_new_invoice=True).message_post(body=body)
        return queued

    def _heeros_link_record_error(self, title, errors):
        """Show why the e-invoice was not sent: on the invoice and in its chatter."""
        for move in self:
            text = "\n".join([str(title)] + [f"- {e}" for e in errors])
            move.sudo().heeros_link_error = text
            body = Markup("%s<ul>%s</ul>") % (title, Markup().join(Markup("<li>%s</li>") % e for e in errors))
            move.with_context(no_new_invoice=True).message_post(body=body)

    def _heeros_link_failed(self, message):
        """The Link message of these invoices failed (error or rejected):
        show it and ask the salesperson to act."""
        text = message.error or (
            _("Rejected by the receiver.") if message.state == "rejected" else _("Sending failed.")
        )
        summary = _("E-invoice not delivered")
        todo = self.env.ref("mail.mail_activity_data_todo", raise_if_not_found=False)
        for move in self.sudo():
            if message == move.heeros_link_message_id:
                move.heeros_link_error = _("Link message %(message)s: %(error)s", message=message.name, error=text)
            move.with_context(no_new_invoice=True).message_post(
                body=_("E-invoice Link message %(message)s failed: %(error)s", message=message.name, error=text)
            )
            user = move.invoice_user_id or self.env.user
            existing = [
                a
                for a in move.activity_ids
                if a.activity_type_id == todo and a.summary == summary and a.user_id == user
            ]
            if todo and not existing:
                move.activity_schedule(
                    "mail.mail_activity_data_todo",
                    user_id=user.id,
                    summary=summary,
                    note=_(
                        "Link message %(message)s: %(error)s Correct the problem, then use 'Resend e-invoice'.",
                        message=message.name,
                        error=text,
                    ),
                )

    # ------------------------------------------------------------------
    # delivery status from the operators
    # ------------------------------------------------------------------
    @api.model
    def _cron_heeros_link_delivery(self):
        """Daily: ask the operators about invoices sent but not confirmed,
        then flag those still unconfirmed after the company's number of days."""
        self.env["heeros.link.message"]._cron_delivery_status()
        self._heeros_link_flag_unconfirmed()

    @api.model
    def _heeros_link_flag_unconfirmed(self, now=None):
        """Set ``heeros_link_unconfirmed`` on the invoices the dashboard shows
        (and clear it on those confirmed or failed since)."""
        now = now or fields.Datetime.now()
        Move = self.sudo()
        flagged = Move.search([("heeros_link_unconfirmed", "=", True)])
        flagged.filtered(lambda m: m.heeros_link_state != "sent").write({"heeros_link_unconfirmed": False})
        late = Move.browse()
        for company in self.env["res.company"].sudo().search([]):
            limit = now - timedelta(days=max(company.heeros_link_unconfirmed_days, 0))
            candidates = Move.search(
                [
                    ("company_id", "=", company.id),
                    ("heeros_link_state", "=", "sent"),
                    ("heeros_link_unconfirmed", "=", False),
                    ("heeros_link_message_id.sent_date", "<=", limit),
                    ("heeros_link_message_id.remote_id", "!=", False),
                ]
            )
            late |= candidates.filtered(lambda m: m.heeros_link_message_id.connection_id._link_reports_delivery())
        late.write({"heeros_link_unconfirmed": True})
        return late

    # ------------------------------------------------------------------
    # actions
    # ------------------------------------------------------------------
    def action_heeros_link_resend(self):
        """Build, validate and queue the e-invoice again (after a correction)."""
        moves = self.filtered(lambda m: m.state == "posted" and m.is_sale_document())
        if not moves:
            raise UserError(_("Only posted customer invoices and credit notes can be sent."))
        live = moves.filtered(
            lambda m: m.heeros_link_message_id.state in ("draft", "queued", "sending", "sent", "accepted")
        )
        if live:
            raise UserError(
                _(
                    "The e-invoice of %(moves)s is already on its way (%(messages)s); "
                    "cancel the Link message first to send a new one.",
                    moves=", ".join(live.mapped("name")),
                    messages=", ".join(live.heeros_link_message_id.mapped("name")),
                )
            )
        moves.sudo().write({"heeros_link_error": False})
        self.env["account.move.send"]._generate_and_send_invoices(
            moves, sending_methods={"heeros_link"}, from_cron=False, allow_raising=True
        )
        return True

    def action_heeros_link_view_messages(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id("heeros_link_base.heeros_link_message_action")
        links = (
            self.env["heeros.link.message.link"]
            .sudo()
            .search([("res_model", "=", "account.move"), ("res_id", "=", self.id)])
        )
        action["domain"] = [("id", "in", links.message_id.ids)]
        action["context"] = {}
        return action

    def action_heeros_link_view_reminders(self):
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "res_model": "heeros.link.reminder",
            "name": _("Payment reminders"),
            "views": [(False, "list"), (False, "form")],
            "domain": [("move_id", "=", self.id)],
        }
