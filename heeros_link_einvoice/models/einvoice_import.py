"""Inbound e-invoices into draft vendor bills: the handlers of the
``finvoice`` and ``ubl`` document types.

Each step is a method of the abstract model ``heeros.link.einvoice.import``
that an addon overrides with ``_inherit``: :meth:`_link_read` (the format to
an :class:`~..formats.inbound.InboundInvoice`), :meth:`_link_route_company`,
:meth:`_link_match_supplier`, :meth:`_link_find_duplicate`,
:meth:`_link_bill_vals` / :meth:`_link_line_vals`, :meth:`_link_attach`,
:meth:`_link_check_totals` and :meth:`_link_check_rules`. The state of one file travels between them as an
:class:`EInvoiceImportState`.
"""

import hashlib
from dataclasses import dataclass, field
from decimal import Decimal

from markupsafe import Markup

from odoo import _, api, fields, models
from odoo.addons.heeros_link_base.formats import identifiers
from odoo.addons.heeros_link_base.formats import reference as fi_reference
from odoo.addons.heeros_link_base.registry import Outcome
from odoo.exceptions import ValidationError
from odoo.tools.translate import LazyTranslate

from ..formats import finvoice as fv
from ..formats import inbound

#: Purchase taxes of the Finnish chart used for reverse charge (AE) and
#: intra-community acquisitions (K), by rate: xml id suffix templates.
_lt = LazyTranslate(__name__)
REVERSE_CHARGE_TAXES = {
    "K": ("tax_eu_purchase_goods_{rate}",),
    "AE": ("tax_construct_purchase_{rate}_finland", "tax_eu_purchase_service_{rate}"),
}
STANDARD_RATE = "25_5"
#: UN/ECE rec. 20 unit codes and Odoo's units of measure.
UNECE_UNITS = {
    "C62": "uom.product_uom_unit",
    "EA": "uom.product_uom_unit",
    "H87": "uom.product_uom_unit",
    "HUR": "uom.product_uom_hour",
    "DAY": "uom.product_uom_day",
    "KGM": "uom.product_uom_kgm",
    "MTR": "uom.product_uom_meter",
    "LTR": "uom.product_uom_litre",
    "KMT": "uom.product_uom_km",
}


@dataclass(eq=False)
class EInvoiceImportState:
    """What the import of one e-invoice file carries from hook to hook."""

    message: object  # heeros.link.message
    kind: str  # finvoice or ubl
    file_name: str | None = None
    data: bytes = b""
    company: object = None
    warnings: list = field(default_factory=list)  # texts for the bill and the message
    notes: list = field(default_factory=list)  # texts for the bill's chatter
    bills: list = field(default_factory=list)  # account.move ids made
    duplicates: list = field(default_factory=list)  # (text, bill)
    extra: dict = field(default_factory=dict)


def _exact(value):
    return None if value is None else Decimal(str(value))


def _dec(value):
    return Decimal(str(value)).quantize(Decimal("0.01"))


class HeerosLinkEInvoiceImport(models.AbstractModel):
    """The import of inbound e-invoices, as hooks an addon overrides."""

    _name = "heeros.link.einvoice.import"
    _description = "Link e-invoice import"

    # ------------------------------------------------------------------
    # driver
    # ------------------------------------------------------------------
    def _link_handle_einvoice(self, message):
        """Handler of the ``finvoice`` and ``ubl`` document types."""
        state = EInvoiceImportState(
            message=message, kind=message.document_type, file_name=message.file_name, data=message._payload()
        )
        return self._link_import(state)

    def _link_import(self, state):
        """Import every invoice of the file; an :class:`Outcome`."""
        made = self.env["account.move"]
        for invoice in self._link_read(state):
            company, problem = self._link_route_company(state, invoice)
            if problem:
                return Outcome.refused(problem)
            model = self.with_company(company)
            state.company = company
            duplicate = model._link_find_duplicate(state, invoice)
            if duplicate:
                state.duplicates.append(
                    (
                        _(
                            "invoice %(number)s of %(seller)s is already bill %(bill)s",
                            number=invoice.number,
                            seller=invoice.seller.name or "-",
                            bill=duplicate.display_name,
                        ),
                        duplicate,
                    )
                )
                continue
            made |= model._link_create_bill(state, invoice)
        if not made:
            text = "; ".join(text for text, _bill in state.duplicates) or _("the file holds no invoice")
            if state.duplicates:
                state.message.sudo().message_post(body=text)
                return Outcome.duplicate(text)
            return Outcome.refused(text)
        if state.warnings:
            state.message.sudo().message_post(body="\n".join(state.warnings))
        return Outcome.processed(made, text="\n".join(state.warnings) or None)

    def _link_read(self, state):
        """Yield an :class:`~..formats.inbound.InboundInvoice` for every
        invoice of the file, whatever its format."""
        if state.kind == "ubl":
            yield inbound.read_ubl(state.data, state.file_name)
            return
        for invoice in fv.iter_invoices(state.data, state.file_name):
            yield inbound.from_finvoice(invoice)

    # ------------------------------------------------------------------
    # routing
    # ------------------------------------------------------------------
    @api.model
    def _link_party_keys(self, party):
        """Compact identifiers of ``party`` (an InboundParty) to compare."""
        keys = set()
        for value in (party.vat_number, party.business_id):
            value = identifiers.compact(value)
            if not value:
                continue
            keys.add(value)
            business_id = identifiers.normalise_business_id(value)
            if business_id:
                keys |= {business_id, identifiers.vat_from_business_id(business_id)}
        return keys

    def _link_route_company(self, state, invoice):
        """``(company, None)`` or ``(None, problem)``: the buyer's OVT,
        Peppol id, business id or VAT number picks the company."""
        buyer = invoice.buyer
        looked_for = ", ".join(f"{label} {value}" for label, value in buyer.identifiers()) or _("no buyer identifier")
        companies = self.env["res.company"].sudo().search([])
        addresses = {identifiers.compact(buyer.ovt), identifiers.compact(buyer.peppol_endpoint)} - {""}
        keys = self._link_party_keys(buyer) | addresses
        found = self.env["res.company"]
        for company in companies:
            own = company.partner_id.heeros_link_einvoice_address_ids
            own_addresses = {identifiers.compact(a) for a in own.mapped("address") + own.mapped("peppol_endpoint")}
            if addresses & own_addresses:
                found |= company
        if not found:
            for company in companies:
                company_keys = {identifiers.compact(company.vat), identifiers.compact(company.company_registry)}
                business_id = identifiers.business_id_from_vat(company.vat)
                if business_id:
                    company_keys.add(business_id)
                if keys & (company_keys - {""}):
                    found |= company
        message = state.message
        if (
            not found
            and not buyer.identifiers()
            and message.company_id
            and (not message.connection_id or message.connection_id.company_ids <= message.company_id)
        ):
            # a document naming no buyer, received for one company only
            found = message.company_id
            state.warnings.append(
                _(
                    "the invoice names no buyer identifier: imported into %s, the company it was received for",
                    found.name,
                )
            )
        company, problem = message._link_find_route(found, looked_for)
        if problem:
            problem = _lt(
                "buyer %(name)s (%(ids)s): %(problem)s. Add the buyer's e-invoice address to the "
                "company's own e-invoice addresses, or its business id / VAT number to the company",
                name=buyer.name or "-",
                ids=looked_for,
                problem=problem,
            )
            return None, problem
        return company, None

    # ------------------------------------------------------------------
    # supplier
    # ------------------------------------------------------------------
    def _link_match_supplier(self, state, invoice):
        """``(partner, how)``: the supplier by business id, VAT, e-invoice
        address, Peppol endpoint, IBAN, then name; created or left empty
        (review) per the company's setting."""
        Partner = self.env["res.partner"].with_context(active_test=False)
        company = state.company
        seller = invoice.seller
        # a company does not bill itself: its own partner is never the supplier
        domain_company = [
            "|",
            ("company_id", "=", False),
            ("company_id", "=", company.id),
            ("id", "!=", company.partner_id.id),
        ]
        keys = self._link_party_keys(seller)
        candidates = Partner.browse()
        how = ""
        if keys:
            candidates = Partner.search(
                domain_company + ["|", ("vat", "in", list(keys)), ("company_registry", "in", list(keys))]
            )
            how = _("business id / VAT")
        if not candidates:
            addresses = [identifiers.compact(a) for a in (seller.ovt, seller.peppol_endpoint) if a]
            if addresses:
                found = (
                    self.env["heeros.link.einvoice.address"]
                    .sudo()
                    .with_context(active_test=False)
                    .search(["|", ("address", "in", addresses), ("peppol_endpoint", "in", addresses)])
                )
                candidates = found.partner_id.filtered_domain(domain_company)
                how = _("e-invoice address")
        if not candidates and seller.ibans:
            banks = self.env["res.partner.bank"].sudo().search([("sanitized_acc_number", "in", seller.ibans)])
            candidates = banks.partner_id.filtered_domain(domain_company)
            how = _("IBAN")
        if not candidates and seller.name:
            candidates = Partner.search(domain_company + [("name", "=ilike", seller.name), ("is_company", "=", True)])
            how = _("name")
        if candidates and keys and how != _("business id / VAT"):
            # found by address, account or name: never a partner known by other identifiers
            candidates = candidates.filtered(
                lambda p: (
                    not (p.vat or p.company_registry)
                    or ({identifiers.compact(p.vat), identifiers.compact(p.company_registry)} & keys)
                )
            )
        if candidates:
            partner = self._link_pick_supplier(state, invoice, candidates)
            if len(candidates) > 1:
                state.warnings.append(
                    _(
                        "%(count)s partners match the supplier by %(how)s (%(names)s): %(chosen)s was chosen "
                        "(company partner over contact, active over archived, matching bank account first)",
                        count=len(candidates),
                        how=how,
                        names=", ".join(candidates.mapped("display_name")),
                        chosen=partner.display_name,
                    )
                )
            return partner, how
        if self.env.context.get("heeros_link_no_create"):
            return Partner.browse(), ""
        if company.heeros_link_create_suppliers:
            return self._link_create_supplier(state, invoice), _("created")
        state.warnings.append(
            _(
                "supplier %(name)s (%(ids)s) is not known: choose the vendor of the bill",
                name=seller.name or "-",
                ids=", ".join(f"{k} {v}" for k, v in seller.identifiers()) or "-",
            )
        )
        return Partner.browse(), ""

    def _link_pick_supplier(self, state, invoice, candidates):
        """The deterministic pick among partners matching the supplier."""
        ibans = set(invoice.seller.ibans)

        def rank(partner):
            return (
                not partner.active,
                bool(partner.parent_id),
                not (ibans & set(partner.bank_ids.mapped("sanitized_acc_number"))),
                partner.id,
            )

        return min(candidates, key=rank)

    def _link_create_supplier(self, state, invoice):
        seller = invoice.seller
        country = (
            self.env["res.country"].search([("code", "=", seller.country_code.upper())], limit=1)
            if seller.country_code
            else self.env["res.country"]
        )
        vat = seller.vat_number or (
            identifiers.vat_from_business_id(seller.business_id)
            if identifiers.normalise_business_id(seller.business_id)
            else ""
        )
        vals = {
            "name": seller.name or seller.business_id or _("Unknown supplier"),
            "is_company": True,
            "vat": vat or False,
            "company_registry": seller.business_id or False,
            "country_id": country.id or False,
            "company_id": False,
        }
        try:
            with self.env.cr.savepoint():
                partner = self.env["res.partner"].create(vals)
        except ValidationError as exc:
            # an identifier the checks refuse (a wrong check digit): the supplier is made without them
            state.warnings.append(
                _(
                    "%(number)s: the supplier was created without its VAT number and "
                    "business id, which are not valid (%(why)s)",
                    number=invoice.number,
                    why=exc.args[0],
                )
            )
            partner = self.env["res.partner"].create(dict(vals, vat=False, company_registry=False))
        if seller.ovt:
            try:
                with self.env.cr.savepoint():
                    self.env["heeros.link.einvoice.address"].sudo().create(
                        {"partner_id": partner.id, "address": seller.ovt}
                    )
            except ValidationError as exc:
                state.warnings.append(
                    _(
                        "%(number)s: the supplier's e-invoice address %(address)s was not added: %(why)s",
                        number=invoice.number,
                        address=seller.ovt,
                        why=exc.args[0],
                    )
                )
        state.notes.append(_("supplier %s created from the e-invoice", partner.display_name))
        return partner

    def _link_add_bank(self, state, invoice, partner):
        """The supplier's IBAN added to its bank accounts when new; the
        account of the bill."""
        Bank = self.env["res.partner.bank"].sudo()
        for iban in invoice.seller.ibans:
            account = Bank.with_context(active_test=False).search(
                [("sanitized_acc_number", "=", iban), ("partner_id", "=", partner.commercial_partner_id.id)], limit=1
            )
            if not account:
                account = Bank.create({"acc_number": iban, "partner_id": partner.commercial_partner_id.id})
                state.notes.append(_("bank account %s added to the supplier", iban))
            return account
        return Bank

    # ------------------------------------------------------------------
    # duplicates
    # ------------------------------------------------------------------
    def _link_payload_key(self, state, invoice):
        return hashlib.sha256(state.data).hexdigest() + (f":{invoice.number}" if invoice.number else "")

    def _link_find_duplicate(self, state, invoice):
        """The existing bill of the same supplier and number, the same
        document id, or the same payload; else an empty recordset."""
        Move = self.env["account.move"].sudo()
        company = state.company
        base = [
            ("company_id", "=", company.id),
            ("move_type", "in", ("in_invoice", "in_refund")),
            ("state", "!=", "cancel"),
        ]
        found = Move.search(
            base + [("heeros_link_in_payload_key", "=", self._link_payload_key(state, invoice))], limit=1
        )
        if not found and invoice.document_id:
            found = Move.search(
                base
                + [
                    ("heeros_link_in_document_id", "=", invoice.document_id),
                    ("heeros_link_in_format", "=", invoice.format),
                ],
                limit=1,
            )
        if not found and invoice.number:
            partner, _how = self._link_known_supplier(state, invoice)
            if partner:
                found = Move.search(
                    base
                    + [("ref", "=", invoice.number), ("commercial_partner_id", "=", partner.commercial_partner_id.id)],
                    limit=1,
                )
        return found

    def _link_known_supplier(self, state, invoice):
        """The supplier, without creating one or warning."""
        warnings = list(state.warnings)
        try:
            return self.with_context(heeros_link_no_create=True)._link_match_supplier(state, invoice)
        finally:
            state.warnings[:] = warnings

    # ------------------------------------------------------------------
    # the bill
    # ------------------------------------------------------------------
    def _link_create_bill(self, state, invoice):
        partner, how = self._link_match_supplier(state, invoice)
        vals = self._link_bill_vals(state, invoice, partner, how)
        vals["invoice_line_ids"] = [
            (0, 0, self._link_line_vals(state, invoice, line, partner)) for line in invoice.lines
        ]
        move = (
            self.env["account.move"]
            .with_company(state.company)
            .with_context(default_move_type=vals["move_type"])
            .create(vals)
        )
        self._link_attach(state, invoice, move)
        self._link_fit_vat_rounding(state, invoice, move)
        problems = self._link_check_totals(state, invoice, move)
        if problems:
            move.heeros_link_in_warning = "\n".join(problems)
            state.warnings.extend(f"{invoice.number}: {text}" for text in problems)
        findings = self._link_check_rules(state, invoice, move)
        if findings:
            move.heeros_link_in_rule_findings = "\n".join(findings)
            move.message_post(
                body=Markup("<p>%s</p><ul>%s</ul>")
                % (
                    _("The e-invoice breaks these EN 16931 / Peppol rules (shown for review; the bill was created):"),
                    Markup("").join(Markup("<li>%s</li>") % line for line in findings),
                )
            )
        for note in state.notes:
            move.message_post(body=note)
        state.notes.clear()
        state.bills.append(move.id)
        return move

    def _link_check_rules(self, state, invoice, move):
        """The EN 16931 and Peppol business rules on a received UBL file, as
        lines shown on the bill: warnings for review, never a reason to lose
        or refuse the invoice. Finvoice has no such rules: nothing."""
        if state.kind != "ubl":
            return []
        return move._heeros_link_rule_findings(state.data, file_name=state.file_name)

    def _link_bill_vals(self, state, invoice, partner, how):
        """``account.move`` values of the bill (without lines)."""
        company = state.company
        currency = (
            self.env["res.currency"].with_context(active_test=False).search([("name", "=", invoice.currency)], limit=1)
            or company.currency_id
        )
        reference = fi_reference.compact(invoice.payment_reference or "")
        if reference and not fi_reference.kind(reference):
            state.warnings.append(
                _(
                    "%(number)s: payment reference %(ref)s is not a valid Finnish or RF reference",
                    number=invoice.number,
                    ref=invoice.payment_reference,
                )
            )
        vals = {
            "move_type": "in_refund" if invoice.is_credit_note else "in_invoice",
            "company_id": company.id,
            "partner_id": partner.id or False,
            "ref": invoice.number,
            "invoice_date": invoice.date,
            "invoice_date_due": invoice.due_date or invoice.date,
            "payment_reference": reference or invoice.payment_reference or False,
            "currency_id": currency.id,
            "heeros_link_in_message_id": state.message.id,
            "heeros_link_in_format": invoice.format,
            "heeros_link_in_document_id": invoice.document_id or False,
            "heeros_link_in_payload_key": self._link_payload_key(state, invoice),
            "heeros_link_in_supplier_match": how or False,
            "narration": "\n".join(invoice.notes) or False,
        }
        if partner:
            bank = self._link_add_bank(state, invoice, partner)
            if bank:
                vals["partner_bank_id"] = bank.id
        return vals

    def _link_line_vals(self, state, invoice, line, partner):
        """``account.move.line`` values of one invoice line: the document's
        line total is kept exactly."""
        total = _exact(line.total_excl_vat)
        quantity, price = _exact(line.quantity) or Decimal(1), _exact(line.unit_price)
        discount = _exact(line.discount_percent)
        digits = self.env["decimal.precision"].precision_get("Product Price")
        step = Decimal(1).scaleb(-digits)
        if (
            price is not None
            and price == price.quantize(step)
            and _dec(quantity * price * (1 - (discount or Decimal(0)) / 100)) == _dec(total)
        ):
            vals = {"quantity": float(quantity), "price_unit": float(price), "discount": float(discount or 0)}
        elif quantity and _dec((total / quantity).quantize(step) * quantity) == _dec(total):
            vals = {"quantity": float(quantity), "price_unit": float((total / quantity).quantize(step))}
        else:
            # a unit price finer than the database keeps: the line's total is what counts
            vals = {"quantity": 1.0, "price_unit": float(total)}
            state.extra.setdefault("lines_as_totals", []).append(line.name)
        if vals["quantity"] == float(quantity):
            vals["name"] = line.name
        else:
            vals["name"] = f"{line.name} ({quantity.normalize()} x {price if price is not None else '-'})"
        product = self._link_product(state, line, partner)
        if product:
            vals["product_id"] = product.id
        uom = self._link_uom(state, line)
        if uom and (not product or product.uom_id.category_id == uom.category_id):
            vals["product_uom_id"] = uom.id
        vals["tax_ids"] = [(6, 0, self._link_taxes(state, invoice, line.tax).ids)]
        return vals

    def _link_product(self, state, line, partner):
        Product = self.env["product.product"]
        if line.buyer_code:
            product = Product.search([("default_code", "=", line.buyer_code)], limit=1)
            if product:
                return product
        if line.seller_code and partner and "product.supplierinfo" in self.env:
            info = self.env["product.supplierinfo"].search(
                [("partner_id", "=", partner.commercial_partner_id.id), ("product_code", "=", line.seller_code)],
                limit=1,
            )
            if info:
                return info.product_id or info.product_tmpl_id.product_variant_id
        return Product

    def _link_uom(self, state, line):
        if not line.unit_code:
            return self.env["uom.uom"]
        xmlid = UNECE_UNITS.get(line.unit_code.upper())
        return self.env.ref(xmlid, raise_if_not_found=False) if xmlid else self.env["uom.uom"]

    def _link_taxes(self, state, invoice, tax):
        """The company's purchase tax of ``tax`` (rate and UNECE category)."""
        company = state.company
        Tax = self.env["account.tax"].with_company(company)
        if tax.category in REVERSE_CHARGE_TAXES:
            template = self.env["account.chart.template"].with_company(company)
            for pattern in REVERSE_CHARGE_TAXES[tax.category]:
                found = template.ref(pattern.format(rate=STANDARD_RATE), raise_if_not_found=False)
                if found:
                    return found
        domain = [
            ("company_id", "=", company.id),
            ("type_tax_use", "=", "purchase"),
            ("amount_type", "=", "percent"),
            ("price_include", "=", False),
        ]
        candidates = Tax.search(domain + [("amount", "=", float(tax.rate))], order="sequence, id")
        plain = candidates.filtered(lambda t: all(line.factor_percent >= 0 for line in t.invoice_repartition_line_ids))
        candidates = plain or candidates
        by_category = candidates.filtered(lambda t: t.heeros_link_vat_category == tax.category)
        found = (by_category or candidates)[:1]
        if not found:
            found = self._link_create_tax(state, invoice, tax)
        return found

    def _link_create_tax(self, state, invoice, tax):
        """A purchase tax of a rate the company does not have yet (a foreign
        supplier's rate), so that the bill's VAT is the document's; said on
        the bill for the accountant to check its accounts."""
        company = state.company
        Tax = self.env["account.tax"].sudo().with_company(company)
        name = _("Purchase %(rate)s%% %(cat)s (e-invoice)", rate=tax.rate.normalize(), cat=tax.category)
        existing = Tax.with_context(active_test=False).search(
            [("company_id", "=", company.id), ("name", "=", name), ("type_tax_use", "=", "purchase")], limit=1
        )
        if existing:
            existing.active = True
            return existing
        group = self.env["account.tax.group"].sudo().search([("company_id", "=", company.id)], limit=1)
        created = Tax.create(
            {
                "name": name,
                "amount": float(tax.rate),
                "amount_type": "percent",
                "type_tax_use": "purchase",
                "company_id": company.id,
                "tax_group_id": group.id,
                "country_id": (company.account_fiscal_country_id or company.country_id).id,
                "heeros_link_vat_category": tax.category
                if tax.category in dict(self.env["account.tax"]._fields["heeros_link_vat_category"].selection)
                else False,
            }
        )
        state.notes.append(_("purchase tax %s created for this invoice's rate: check its accounts", name))
        return created

    def _link_attach(self, state, invoice, move):
        """The original file and the document's attachments on the bill."""
        Attachment = self.env["ir.attachment"].sudo()
        files = [(state.file_name or f"{invoice.number}.xml", state.data, "application/xml")]
        files += [(a.name, a.content, a.mime_type) for a in invoice.attachments]
        for name, content, mimetype in files:
            Attachment.create(
                {
                    "name": name,
                    "raw": content,
                    "mimetype": mimetype,
                    "res_model": "account.move",
                    "res_id": move.id,
                    "company_id": move.company_id.id,
                }
            )

    def _link_fit_vat_rounding(self, state, invoice, move):
        """A supplier that rounds VAT once per rate (EN 16931) and a company
        that rounds per line can be a cent apart per line: the bill's VAT of
        that rate is set to the document's, and said on the bill. Larger
        differences are left for :meth:`_link_check_totals` to flag."""
        theirs = {}
        for tax in invoice.taxes:
            if tax.amount is not None:
                theirs[_dec(tax.rate)] = theirs.get(_dec(tax.rate), Decimal(0)) + tax.amount
        ours = self._link_vat_per_rate(move)
        sign = -1 if move.move_type == "in_refund" else 1
        changes = []
        for rate, amount in ours.items():
            difference = _dec(theirs.get(rate, amount)) - amount
            tax_lines = move.line_ids.filtered(
                lambda ml, r=rate: ml.display_type == "tax" and _dec(ml.tax_line_id.amount) == r
            )
            lines = len(move.invoice_line_ids.filtered(lambda ml, r=rate: any(_dec(t.amount) == r for t in ml.tax_ids)))
            if difference and len(tax_lines) == 1 and abs(difference) <= Decimal("0.01") * max(lines, 1):
                changes.append(
                    (1, tax_lines.id, {"amount_currency": tax_lines.amount_currency + float(difference) * sign})
                )
                state.notes.append(
                    _(
                        "VAT %(rate)s %% set to the invoice's %(amount)s (the supplier rounds "
                        "VAT per rate, %(diff)s apart)",
                        rate=rate,
                        amount=_dec(theirs[rate]),
                        diff=difference,
                    )
                )
        if changes:
            move.write({"line_ids": changes})

    def _link_check_totals(self, state, invoice, move):
        """Texts for every difference between the bill and the document:
        lines, VAT per rate, total, payable."""
        problems = []
        sign = 1

        def differs(label, ours, theirs):
            if theirs is None:
                return
            if _dec(ours) != _dec(theirs):
                problems.append(
                    _(
                        "%(what)s differs: bill %(ours)s, document %(theirs)s",
                        what=label,
                        ours=_dec(ours),
                        theirs=_dec(theirs),
                    )
                )

        differs(_("total excluding VAT"), move.amount_untaxed * sign, invoice.total_excl_vat)
        differs(_("VAT"), move.amount_tax * sign, invoice.total_vat)
        differs(_("total"), move.amount_total * sign, invoice.total_incl_vat)
        ours = self._link_vat_per_rate(move)
        theirs = {}
        for tax in invoice.taxes:
            if tax.amount is not None:
                key = _dec(tax.rate)
                theirs[key] = theirs.get(key, Decimal(0)) + tax.amount
        for rate in sorted(set(ours) | set(theirs)):
            if rate in theirs or ours.get(rate):
                differs(_("VAT %s %%", rate), ours.get(rate, Decimal(0)), theirs.get(rate, Decimal(0)))
        return problems

    @api.model
    def _link_vat_per_rate(self, move):
        """``{rate: VAT amount}`` of a bill (document currency), by the
        rate the invoice states (reverse charge counts as 0 %)."""
        result = {}
        for line in move.line_ids.filtered(lambda ml: ml.display_type == "tax"):
            tax = line.tax_line_id
            if any(r.factor_percent < 0 for r in tax.invoice_repartition_line_ids):
                continue  # self-assessed: the document shows 0 %
            key = _dec(tax.amount)
            amount = Decimal(str(line.amount_currency)) * (-1 if move.move_type == "in_refund" else 1)
            result[key] = result.get(key, Decimal(0)) + amount
        return {k: _dec(v) for k, v in result.items()}


class AccountMove(models.Model):
    _inherit = "account.move"

    heeros_link_in_message_id = fields.Many2one(
        "heeros.link.message", "Received through Link", readonly=True, copy=False, index="btree_not_null"
    )
    heeros_link_in_format = fields.Selection(
        [("finvoice", "Finvoice"), ("ubl", "UBL / Peppol")], "E-invoice format", readonly=True, copy=False
    )
    heeros_link_in_document_id = fields.Char("E-invoice document id", readonly=True, copy=False, index=True)
    heeros_link_in_payload_key = fields.Char(readonly=True, copy=False, index=True)
    heeros_link_in_supplier_match = fields.Char("Supplier matched by", readonly=True, copy=False)
    heeros_link_in_warning = fields.Text("E-invoice differences", readonly=True, copy=False)
    heeros_link_in_rule_findings = fields.Text(
        "E-invoice rule findings",
        readonly=True,
        copy=False,
        help="EN 16931 and Peppol BIS 3 rules the received UBL invoice breaks; for review only.",
    )


class ResCompany(models.Model):
    _inherit = "res.company"

    heeros_link_create_suppliers = fields.Boolean(
        "Create unknown suppliers",
        default=True,
        help="A received e-invoice from an unknown supplier creates the supplier with the identifiers "
        "of the invoice. Off: the bill is left without a vendor for review.",
    )
