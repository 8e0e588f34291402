"""Scanned paper invoices into draft vendor bills.

The reading is :mod:`..formats.scan`; this model decides the company, the
supplier and the bill, each step a ``_heeros_link_scan_*`` hook an addon
overrides with ``_inherit``.
"""

import base64

from odoo import _, api, fields, models
from odoo.addons.heeros_link_base.formats import identifiers
from odoo.addons.heeros_link_base.registry import Outcome

from ..formats import inbound, scan
from .einvoice_import import EInvoiceImportState

#: The e-invoice document types a scanning service's image or PDF pairs with.
EINVOICE_TYPES = ("finvoice", "ubl")


class HeerosLinkEinvoiceScan(models.AbstractModel):
    _name = "heeros.link.einvoice.scan"
    _description = "Scanned invoice import"

    # ------------------------------------------------------------------
    # handlers
    # ------------------------------------------------------------------
    @api.model
    def _heeros_link_import_scan(self, message):
        """A PDF: attached to its e-invoice's bill when a scanning service
        sent it as the image of one, else read into a draft bill for review."""
        data = message._payload()
        bill = self._heeros_link_scan_paired_bill(message)
        if bill:
            self._heeros_link_scan_attach(bill, [(message.file_name or message.name, data)], message)
            return Outcome.processed(bill, text=_("Attached as the image of bill %s", bill.display_name))
        try:
            result = scan.read_pdf(data, message.file_name)
            problem = None
        except scan.ScanError as exc:
            result, problem = scan.ScanResult(file_name=message.file_name), exc.describe()
        state = EInvoiceImportState(message=message, kind="scan", file_name=message.file_name, data=data)
        invoice = self._heeros_link_scan_invoice(message, result)
        state.company = self._heeros_link_scan_company(state, invoice)
        Import = self.env["heeros.link.einvoice.import"].with_company(state.company)
        duplicate = Import._link_find_duplicate(state, invoice)
        if duplicate:
            return Outcome.duplicate(
                _(
                    "invoice %(number)s of %(supplier)s is already bill %(bill)s",
                    number=invoice.number or "-",
                    supplier=duplicate.partner_id.display_name or "-",
                    bill=duplicate.display_name,
                )
            )
        bill = self._heeros_link_scan_create_bill(state, invoice, result, problem)
        return Outcome.processed(bill)

    @api.model
    def _heeros_link_import_scan_delivery(self, message):
        """A scanning service's ZIP: each e-invoice becomes a message of its
        own, handled by its format's handler; its images or PDF (pairing rule
        in :mod:`..formats.scan`) are attached to the bill it made."""
        deliveries = scan.split_delivery(message._payload(), message.file_name)
        Message = self.env["heeros.link.message"]
        parts = Message._link_intake(
            [(d.invoice.name, d.invoice.data) for d in deliveries],
            connection=message.connection_id,
            company=message.company_id,
            process=False,
        )
        parts.sudo().write({"parent_id": message.id})
        bills = self.env["account.move"]
        missing = []
        for delivery, part in zip(deliveries, parts):
            # in this transaction, in file order: a handler never commits
            part._process_one()
            bill = part._linked("account.move")[:1]
            if bill and delivery.images:
                self._heeros_link_scan_attach(bill, [(i.name, i.data) for i in delivery.images], part)
            elif delivery.images:
                missing.append(part.file_name)
            bills |= part._linked("account.move")
        text = _("%(count)s e-invoices unpacked: %(names)s", count=len(parts), names=", ".join(parts.mapped("name")))
        if missing:
            text += "\n" + _("No bill was made from %s: its images stay in this ZIP file.", ", ".join(missing))
        return Outcome.processed(bills, text=text)

    # ------------------------------------------------------------------
    # hooks
    # ------------------------------------------------------------------
    @api.model
    def _heeros_link_scan_paired_bill(self, message):
        """The bill of the inbound e-invoice this image pairs with: the same
        base name, or named by the e-invoice as its image."""
        key = scan.pair_key(message.file_name)
        if not key:
            return self.env["account.move"]
        companies = message.company_id | message.connection_id.company_ids
        candidates = self.env["heeros.link.message"].search(
            [
                ("id", "!=", message.id),
                ("direction", "=", "in"),
                ("state", "=", "processed"),
                ("document_type", "in", EINVOICE_TYPES),
                ("company_id", "in", companies.ids),
                ("connection_id", "=", message.connection_id.id),
            ],
            order="id desc",
            limit=200,
        )
        waiting = self.env["heeros.link.message"].search(
            [
                ("id", "!=", message.id),
                ("direction", "=", "in"),
                ("state", "=", "received"),
                ("company_id", "in", companies.ids),
                ("connection_id", "=", message.connection_id.id),
                ("file_name", "=ilike", "%.xml"),
            ],
            order="id",
            limit=200,
        )
        for other in waiting.filtered(lambda m: scan.pair_key(m.file_name) == key):
            # the e-invoice of the pair came in the same fetch: it goes first
            other._process_one()
            if other.state == "processed" and other._linked("account.move"):
                return other._linked("account.move")[:1]
        for candidate in candidates:
            if scan.pair_key(candidate.file_name) == key or key in {
                scan.pair_key(name) for name in scan.image_names_of(candidate._payload())
            }:
                bill = candidate._linked("account.move")[:1]
                if bill:
                    return bill
        return self.env["account.move"]

    @api.model
    def _heeros_link_scan_invoice(self, message, result):
        """What was read as an :class:`~..formats.inbound.InboundInvoice`
        for the e-invoice import's hooks: a business ID of a company the
        connection serves is the buyer's, the first other one the supplier's."""
        served = message.connection_id.company_ids or message.company_id
        own = {
            identifiers.business_id_compact(c.company_registry or "") or identifiers.business_id_from_vat(c.vat or "")
            for c in served
        } - {""}
        buyer_ids = [bid for bid in result.business_ids if bid in own]
        seller_ids = [bid for bid in result.business_ids if bid not in own]
        seller_id = seller_ids[0] if seller_ids else ""
        return inbound.InboundInvoice(
            format="scan",
            number=result.invoice_number or "",
            due_date=result.due_date,
            currency="EUR",
            payment_reference=result.reference or "",
            seller=inbound.InboundParty(
                business_id=seller_id,
                vat_number=identifiers.vat_from_business_id(seller_id) if seller_id else "",
                ibans=[result.iban] if result.iban else [],
            ),
            buyer=inbound.InboundParty(business_id=buyer_ids[0] if buyer_ids else ""),
            payable=result.amount,
        )

    @api.model
    def _heeros_link_scan_company(self, state, invoice):
        """One company served: that one. Several: the e-invoice import's
        routing by the buyer's business ID when the scan shows one, else the
        message's (the connection's) company."""
        message = state.message
        served = message.connection_id.company_ids or message.company_id
        if len(served) <= 1 or not invoice.buyer.business_id:
            return message.company_id
        company, problem = self.env["heeros.link.einvoice.import"]._link_route_company(state, invoice)
        return company if not problem else message.company_id

    @api.model
    def _heeros_link_scan_partner(self, state, invoice):
        """``(partner, how)`` by the e-invoice import's supplier matching;
        a scan never creates a supplier (what was read is to be checked)."""
        Import = self.env["heeros.link.einvoice.import"].with_company(state.company)
        return Import.with_context(heeros_link_no_create=True)._link_match_supplier(state, invoice)

    @api.model
    def _heeros_link_scan_bill_vals(self, state, invoice, result, partner, how):
        company = state.company
        Import = self.env["heeros.link.einvoice.import"].with_company(company)
        vals = Import._link_bill_vals(state, invoice, partner, how)
        journal = self.env["account.journal"].search(
            [("company_id", "=", company.id), ("type", "=", "purchase")], limit=1
        )
        vals.update(
            {
                "move_type": "in_invoice",
                "journal_id": journal.id,
                "ref": invoice.number or False,
                "invoice_date_due": invoice.due_date or False,
                "payment_reference": (result.reference and scan.fi_reference.format(result.reference)) or False,
                "heeros_link_scan_review": True,
            }
        )
        if result.amount:
            # one line with the amount to pay: the reviewer splits it by VAT rate
            vals["invoice_line_ids"] = [
                (
                    0,
                    0,
                    {
                        "name": _("Scanned invoice %s", invoice.number or state.file_name or ""),
                        "quantity": 1,
                        "price_unit": float(result.amount),
                        "tax_ids": [(5, 0, 0)],
                    },
                )
            ]
        return vals

    @api.model
    def _heeros_link_scan_text(self, result, problem=None, warnings=()):
        """What was read, for the reviewer (shown on the bill)."""
        rows = []
        if result.barcode:
            origin = _("image") if result.barcode_source == "image" else _("text")
            rows.append(_("Bank bar code: %(code)s (%(origin)s)", code=result.barcode.code, origin=origin))
        if result.invoice_number:
            rows.append(_("Invoice number: %s", result.invoice_number))
        if result.business_ids:
            rows.append(_("Business ID: %s", ", ".join(result.business_ids)))
        if result.iban:
            rows.append(_("IBAN: %s", result.iban))
        if result.reference:
            rows.append(_("Reference: %s", scan.fi_reference.format(result.reference)))
        if result.amount is not None:
            rows.append(_("Amount: %s", str(result.amount)))
        if result.due_date:
            rows.append(_("Due date: %s", result.due_date.isoformat()))
        if problem:
            rows.append(_("The PDF could not be read: %s", problem))
        elif not result.useful:
            rows.append(
                _(
                    "Nothing could be read from the PDF (no text, no bank bar code): enter the "
                    "bill from the attached file."
                )
            )
        rows.extend(_("Note: %s", warning) for warning in (*result.warnings, *warnings))
        return "\n".join(rows)

    @api.model
    def _heeros_link_scan_create_bill(self, state, invoice, result, problem=None):
        message = state.message
        partner, how = self._heeros_link_scan_partner(state, invoice)
        vals = self._heeros_link_scan_bill_vals(state, invoice, result, partner, how)
        vals["heeros_link_scan_data"] = self._heeros_link_scan_text(result, problem, state.warnings)
        bill = self.env["account.move"].with_company(state.company).create(vals)
        self._heeros_link_scan_attach(bill, [(message.file_name or f"{message.name}.pdf", state.data)], message)
        bill.message_post(
            body=_(
                "Created from the scanned invoice %(file)s (Link message %(message)s); "
                "check the values read and complete the bill.",
                file=message.file_name or "",
                message=message.name,
            )
        )
        for note in state.notes:
            bill.message_post(body=note)
        state.notes.clear()
        return bill

    @api.model
    def _heeros_link_scan_attach(self, bill, files, message):
        """Attach ``files`` (name, bytes) to ``bill``; the first PDF becomes
        its main attachment when it has none."""
        attachments = self.env["ir.attachment"].create(
            [
                {
                    "name": name,
                    "datas": base64.b64encode(data),
                    "res_model": "account.move",
                    "res_id": bill.id,
                    "company_id": bill.company_id.id,
                    "mimetype": "application/pdf" if scan.is_pdf(data) else False,
                }
                for name, data in files
            ]
        )
        pdf = attachments.filtered(lambda a: a.mimetype == "application/pdf")[:1]
        if pdf and not bill.message_main_attachment_id:
            bill.message_main_attachment_id = pdf
        return attachments


class AccountMove(models.Model):
    _inherit = "account.move"

    heeros_link_in_format = fields.Selection(selection_add=[("scan", "Scanned invoice")])


class HeerosLinkEInvoiceImport(models.AbstractModel):
    _inherit = "heeros.link.einvoice.import"

    def _link_find_duplicate(self, state, invoice):
        """A scanned paper invoice still in draft for review is no duplicate
        of its e-invoice: the e-invoice's bill replaces it."""
        found = super()._link_find_duplicate(state, invoice)
        if state.kind != "scan" and found and found.state == "draft" and found.heeros_link_scan_review:
            state.extra.setdefault("heeros_link_scan_replaces", []).append(found.id)
            return found.browse()
        return found

    def _link_attach(self, state, invoice, move):
        """A scanning service's image that came before its e-invoice (or a
        scan of the same invoice still to review): its PDF moves from the
        draft bill it made to the e-invoice's bill, which replaces the draft."""
        super()._link_attach(state, invoice, move)
        message = state.message
        keys = {scan.pair_key(state.file_name)} | {scan.pair_key(n) for n in scan.image_names_of(state.data)}
        keys.discard("")
        replaced = self.env["account.move"].sudo().browse(state.extra.pop("heeros_link_scan_replaces", []))
        scans = (
            self.env["heeros.link.message"]
            .sudo()
            .search(
                [
                    ("id", "!=", message.id),
                    ("direction", "=", "in"),
                    ("state", "=", "processed"),
                    ("document_type", "=", "scan"),
                    ("company_id", "=", move.company_id.id),
                    ("connection_id", "=", message.connection_id.id),
                ],
                order="id desc",
                limit=200,
            )
        )
        for scanned in scans.filtered(
            lambda m: scan.pair_key(m.file_name) in keys or m._linked("account.move").exists() & replaced
        ):
            draft = (
                scanned._linked("account.move")
                .exists()
                .filtered(lambda b: b.state == "draft" and b.heeros_link_scan_review and b != move)
            )
            self.env["heeros.link.einvoice.scan"]._heeros_link_scan_attach(
                move, [(scanned.file_name, scanned._payload())], scanned
            )
            scanned._link_records(move)
            if draft:
                state.notes.append(
                    _(
                        "the scanned image %(file)s replaced its draft bill %(bill)s",
                        file=scanned.file_name,
                        bill=draft.display_name,
                    )
                )
                self.env["heeros.link.message.link"].sudo().search(
                    [("message_id", "=", scanned.id), ("res_model", "=", "account.move"), ("res_id", "in", draft.ids)]
                ).unlink()
                draft.unlink()
