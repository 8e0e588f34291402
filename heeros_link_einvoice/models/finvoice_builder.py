"""From Odoo invoices to the Finvoice dataclasses of ``formats.finvoice``.

``heeros.link.finvoice.builder`` reads a batch of ``account.move`` records
(prefetched together) and returns one :class:`~..formats.finvoice.FinvoiceInvoice`
per invoice, or the problems that stop the invoice from being an e-invoice.

Every Finvoice block has its own method (``_finvoice_seller``,
``_finvoice_buyer``, ``_finvoice_rows`` / ``_finvoice_row``, ``_finvoice_vat``,
``_finvoice_payment``...), so an addon adds or changes an element with
``_inherit = "heeros.link.finvoice.builder"`` and ``super()``. What is the same
for many invoices (the seller, units of measure, VAT codes of a tax, penalty
rates) is computed once per batch and kept in a :class:`FinvoiceBatch`.
"""

import dataclasses
import textwrap
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from odoo import models
from odoo.addons.heeros_link_base.formats import reference as fi_reference
from odoo.addons.heeros_link_base.formats.errors import BuildError
from odoo.addons.heeros_link_base.texts import in_lang
from odoo.tools import html2plaintext

from .. import identifiers
from ..formats import barcode as fi_barcode
from ..formats import finvoice as fv

LANGUAGES = {"fi": "FI", "sv": "SV", "en": "EN"}
CREDIT_NOTE_TYPES = ("out_refund",)


def dec(value, digits=2):
    """A float amount as a Decimal with ``digits`` decimals."""
    return Decimal(f"{value or 0.0:.{digits}f}")


def clip(text, size):
    text = " ".join(str(text or "").split())
    return text[:size].rstrip()


def wrap(text, size, count):
    return textwrap.wrap(" ".join(str(text or "").split()), size)[:count]


@dataclasses.dataclass
class FinvoiceBatch:
    """What the builder computes once for a whole batch of invoices.

    Keys are plain ids and tuples; values are Finvoice dataclasses, codes and
    numbers, never records."""

    timestamp: datetime
    #: company id -> seller :class:`fv.Party` (copied for each invoice)
    sellers: dict = dataclasses.field(default_factory=dict)
    #: company id -> ``{rule: message}`` of the company's own data
    seller_problems: dict = dataclasses.field(default_factory=dict)
    #: uom id -> UN/ECE recommendation 20 code
    uom_codes: dict = dataclasses.field(default_factory=dict)
    #: (tax id, supplier country, customer country, supplier has VAT) -> (category, VATEX, reason)
    vat_codes: dict = dataclasses.field(default_factory=dict)
    #: (company id, year, first half-year) -> Interest Act rate
    penalty_rates: dict = dataclasses.field(default_factory=dict)


class HeerosLinkFinvoiceBuilder(models.AbstractModel):
    """Finvoice 3.0 from customer invoices, credit notes and payment
    reminders, one overridable method per block."""

    _name = "heeros.link.finvoice.builder"
    _description = "Finvoice builder"

    # ------------------------------------------------------------------
    # entry points
    # ------------------------------------------------------------------
    def _finvoice_batch(self, timestamp=None):
        """A fresh :class:`FinvoiceBatch`; ``timestamp`` (UTC) goes into every
        message id and transmission of the batch."""
        return FinvoiceBatch(timestamp=timestamp or datetime.now(UTC).replace(microsecond=0))

    def _finvoice_invoices(self, moves, timestamp=None):
        """``{move: FinvoiceInvoice or [problems]}`` for a batch of invoices."""
        state = self._finvoice_batch(timestamp)
        return {move: self._finvoice_invoice(move, state) for move in moves}

    def _finvoice_check(self, moves, state=None):
        """``{move: {rule: message}}``: what stops each invoice from being
        built, keyed by the element or rule it concerns (empty when none)."""
        state = state or self._finvoice_batch()
        return {move: self._finvoice_constraints(move, state) for move in moves}

    def _finvoice_invoice(self, move, state):
        """A FinvoiceInvoice, or the list of problems."""
        if move.move_type not in ("out_invoice", "out_refund"):
            return [self.env._("Only customer invoices and credit notes are sent as e-invoices.")]
        problems = [message for message in self._finvoice_constraints(move, state).values() if message]
        if problems:
            return problems
        rows = self._finvoice_rows(move, state)
        vat_lines = self._finvoice_vat(move, state)
        inv = fv.FinvoiceInvoice(
            seller=self._finvoice_seller(move, state),
            buyer=self._finvoice_buyer(move, state),
            delivery=self._finvoice_delivery(move, state),
            rows=rows,
            vat_breakdown=vat_lines,
            **self._finvoice_header(move, state),
            **self._finvoice_totals(move, state, rows, vat_lines),
            **self._finvoice_terms(move, state),
            **self._finvoice_currency(move, state),
        )
        inv.payment = self._finvoice_payment(move, state, inv.total_incl_vat)
        inv.transmission = self._finvoice_transmission(f"HL{move.id}", state)
        return fv.check(inv) or inv

    # ------------------------------------------------------------------
    # problems
    # ------------------------------------------------------------------
    def _finvoice_constraints(self, move, state):
        """``{rule: message or None}`` of one invoice, in the order they are
        reported. Like Odoo's ``_export_invoice_constraints``: add a key to
        block more invoices, set a key to None to allow them."""
        _ = self.env._
        constraints = dict(self._finvoice_seller_constraints(move.company_id, state))
        constraints.update(self._finvoice_buyer_constraints(move, state))
        einvoice = move.heeros_link_einvoice_address_id
        if not einvoice or not einvoice.address or not einvoice.intermediator:
            constraints["buyer_einvoice_address"] = _(
                "The customer %s has no e-invoice address with an operator: add one on the "
                "customer (or choose one on the invoice).",
                move.commercial_partner_id.display_name,
            )
        constraints.update(self._finvoice_row_constraints(move, state))
        constraints.update(self._finvoice_payment_constraints(move, state))
        if self._finvoice_sign(move) < 0 and not move.reversed_entry_id:
            constraints["credit_note_original_invoice"] = _(
                "The credit note does not say which invoice it credits: create it "
                "with 'Credit Note' on the original invoice."
            )
        return constraints

    def _finvoice_seller_constraints(self, company, state):
        """``{rule: message}`` of the company's own data, once per batch."""
        cached = state.seller_problems.get(company.id)
        if cached is not None:
            return cached
        _ = self.env._
        constraints = {}
        business_id = self._finvoice_business_id(company)
        if not business_id:
            constraints["seller_business_id"] = _("The company %s has no business ID (Company ID).", company.name)
        else:
            problem = in_lang(identifiers.check_business_id(business_id), self.env.lang)
            if problem:
                constraints["seller_business_id"] = _(
                    "Company %(company)s: %(problem)s", company=company.name, problem=problem
                )
        own = company._heeros_link_own_address()
        if not own or not own.address or not own.intermediator:
            constraints["seller_einvoice_address"] = _(
                "The company %s has no own e-invoice address with an operator: add it on the "
                "company (Heeros Link e-invoicing).",
                company.name,
            )
        problem = self._finvoice_address_problem(company.partner_id, _("The company %s", company.name))
        if problem:
            constraints["seller_address"] = problem
        state.seller_problems[company.id] = constraints
        return constraints

    def _finvoice_buyer_constraints(self, move, state):
        _ = self.env._
        constraints = {}
        commercial = move.commercial_partner_id
        business_id = self._finvoice_buyer_business_id(move)
        problem = business_id and in_lang(identifiers.check_business_id(business_id), self.env.lang)
        if problem:
            constraints["buyer_business_id"] = _(
                "Customer %(partner)s: %(problem)s", partner=commercial.display_name, problem=problem
            )
        problem = self._finvoice_address_problem(move.partner_id, _("The customer %s", move.partner_id.display_name))
        if problem:
            constraints["buyer_address"] = problem
        return constraints

    def _finvoice_row_constraints(self, move, state):
        _ = self.env._
        constraints = {}
        taxed = set()
        rows = 0
        for line in self._finvoice_lines(move):
            if line.display_type != "product":
                continue
            rows += 1
            if len(line.tax_ids) != 1:
                constraints[f"row_vat_rate_{line.id}"] = _(
                    "Row '%(row)s' has %(count)s taxes; an e-invoice row needs exactly one VAT "
                    "rate (use a 0 %% tax with a VAT category for exempt sales).",
                    row=self._finvoice_row_name(line),
                    count=len(line.tax_ids),
                )
            else:
                taxed.add(line.tax_ids.id)
        for line in move.line_ids:
            if line.display_type == "tax" and line.tax_line_id and line.tax_line_id.id not in taxed:
                constraints[f"tax_line_without_row_{line.id}"] = _(
                    "Tax %s has a tax line but no invoice row.", line.tax_line_id.name
                )
        if not rows:
            # rows without a tax are reported above, each by its name
            constraints["rows"] = _("The invoice has no product rows.")
        return constraints

    def _finvoice_bank_account(self, move):
        """The account the payment instruction names: the invoice's own, else
        (a credit note made from a posted invoice has none) the company's
        first bank account."""
        if move.partner_bank_id or move.move_type != "out_refund":
            return move.partner_bank_id
        company = move.company_id
        return company.partner_id.bank_ids.filtered(
            lambda bank: bank.company_id in (company, company.browse()) and bank.active
        )[:1]

    def _finvoice_payment_constraints(self, move, state):
        _ = self.env._
        bank = self._finvoice_bank_account(move)
        if not bank:
            return {"payment_account": _("The invoice has no bank account (Recipient Bank) for the payment.")}
        constraints = {}
        if not bank.bank_id.bic:
            constraints["payment_bic"] = _("Bank account %s has no BIC: set the bank on the account.", bank.acc_number)
        reference = fi_reference.compact(move.payment_reference or "")
        if reference and not fi_reference.kind(reference):
            constraints["payment_reference"] = _(
                "Payment reference %s is neither a valid Finnish reference nor a valid RF creditor "
                "reference: correct it (or set the journal's communication standard to the Finnish "
                "reference) before sending.",
                move.payment_reference,
            )
        return constraints

    # ------------------------------------------------------------------
    # cached pieces
    # ------------------------------------------------------------------
    def _finvoice_uom_code(self, uom, state):
        if not uom:
            return "C62"
        code = state.uom_codes.get(uom.id)
        if code is None:
            code = state.uom_codes[uom.id] = self.env["account.edi.common"]._get_uom_unece_code(uom)
        return code

    def _finvoice_vat_codes(self, tax, move, state):
        """``(category, VATEX code, reason)`` of a tax on the invoice."""
        supplier = move.company_id.partner_id
        customer = move.commercial_partner_id
        key = (tax.id, supplier.country_id.id, customer.country_id.id, bool(supplier.vat))
        codes = state.vat_codes.get(key)
        if codes is None:
            codes = state.vat_codes[key] = tax._heeros_link_vat_codes(supplier, customer)
        return codes

    def _finvoice_vat_key(self, tax, move, state):
        """The VAT breakdown group of a tax: ``(rate, category, VATEX, reason)``."""
        category, vatex, reason = self._finvoice_vat_codes(tax, move, state)
        rate = dec(tax.amount if tax.amount_type == "percent" else 0.0, 3).normalize()
        return rate, category, vatex, reason

    def _finvoice_penalty_rate(self, move, state):
        """The invoice's penalty interest: agreed, else the Interest Act rate of
        the invoice date's half-year (looked up once per company and half-year)."""
        if move.heeros_link_penalty_rate:
            return move.heeros_link_penalty_rate
        day = move.invoice_date
        if not day:
            return None
        key = (move.company_id.id, day.year, day.month <= 6)
        if key not in state.penalty_rates:
            state.penalty_rates[key] = move._heeros_link_penalty_rate(day)
        return state.penalty_rates[key]

    # ------------------------------------------------------------------
    # small helpers
    # ------------------------------------------------------------------
    def _finvoice_sign(self, move):
        return -1 if move.move_type in CREDIT_NOTE_TYPES else 1

    def _finvoice_lines(self, move):
        return move.invoice_line_ids.sorted(lambda row: (row.sequence, row.id))

    def _finvoice_business_id(self, partner):
        """The compact business ID (Y-tunnus) of a company or partner."""
        return identifiers.business_id_compact(
            partner.company_registry or identifiers.business_id_from_vat(partner.vat)
        )

    def _finvoice_buyer_business_id(self, move):
        commercial = move.commercial_partner_id
        if commercial.country_id.code == "FI" or identifiers.business_id_from_vat(commercial.vat):
            return self._finvoice_business_id(commercial)
        return ""

    def _finvoice_language(self, move):
        return LANGUAGES.get((move.partner_id.lang or "fi")[:2], "EN")

    # ------------------------------------------------------------------
    # parties
    # ------------------------------------------------------------------
    def _finvoice_address(self, partner):
        """The postal address (:class:`fv.Address`) of a partner."""
        lines = []
        for street in (partner.street, partner.street2):
            if street:
                lines += wrap(street, 35, 3)
        return fv.Address(
            streets=lines[:3],
            town=clip(partner.city, 35),
            post_code=clip(partner.zip, 35),
            country_code=partner.country_id.code or "",
            country_name=partner.country_id.name or "" if partner.country_id.code != "FI" else "",
        )

    def _finvoice_address_problem(self, partner, who):
        """What keeps the partner's address out of a Finvoice, or ``""``."""
        _ = self.env._
        missing = [
            label
            for label, value in (
                (_("street"), partner.street or partner.street2),
                (_("post code"), partner.zip),
                (_("city"), partner.city),
                (_("country"), partner.country_id),
            )
            if not value
        ]
        if missing:
            return _("%(who)s has no %(missing)s in its address.", who=who, missing=", ".join(str(m) for m in missing))
        if len((partner.city or "").strip()) < 2 or len((partner.zip or "").strip()) < 2:
            return _("%s has a city or post code shorter than two characters.", who)
        return ""

    def _finvoice_company_party(self, company, state):
        """The seller party of a company, built once per batch; each caller
        gets its own copy."""
        party = state.sellers.get(company.id)
        if party is None:
            own = company._heeros_link_own_address()
            business_id = self._finvoice_business_id(company)
            party = state.sellers[company.id] = fv.Party(
                name=clip(company.name, 140),
                business_id=business_id,
                business_id_scheme="0212" if business_id else "",
                vat_number=company.vat or "",
                address=self._finvoice_address(company.partner_id),
                organisation_unit_number=own.address if own and own.address_kind == "ovt" else "",
                einvoice_address=own._to_finvoice() if own else None,
            )
        return dataclasses.replace(party)

    def _finvoice_seller(self, move, state):
        """SellerPartyDetails and the seller's contact person."""
        party = self._finvoice_company_party(move.company_id, state)
        party.contact = self._finvoice_seller_contact(move, state)
        return party

    def _finvoice_seller_contact(self, move, state):
        user = move.invoice_user_id
        if not user:
            return None
        company = move.company_id
        return fv.Contact(
            name=clip(user.name, 70), email=clip(user.email or company.email, 70), phone=clip(company.phone, 35)
        )

    def _finvoice_buyer(self, move, state):
        """BuyerPartyDetails, the buyer's contact and e-invoice address."""
        commercial = move.commercial_partner_id
        partner = move.partner_id
        business_id = self._finvoice_buyer_business_id(move)
        einvoice = move.heeros_link_einvoice_address_id
        return fv.Party(
            name=clip(commercial.name, 140),
            business_id=business_id,
            business_id_scheme="0212" if business_id else "",
            vat_number=commercial.vat or "",
            address=self._finvoice_address(partner),
            organisation_unit_number=einvoice.address if einvoice.address_kind == "ovt" else "",
            einvoice_address=einvoice._to_finvoice() if einvoice else None,
            contact=self._finvoice_buyer_contact(move, state),
        )

    def _finvoice_buyer_contact(self, move, state):
        commercial = move.commercial_partner_id
        partner = move.partner_id
        if partner == commercial and not partner.email:
            return None
        return fv.Contact(
            name=clip(partner.name, 70) if partner != commercial else "",
            phone=clip(partner.phone, 35),
            email=clip(partner.email, 70),
        )

    def _finvoice_delivery(self, move, state):
        """DeliveryPartyDetails when goods go elsewhere than the invoice."""
        shipping = move.partner_shipping_id
        if shipping and shipping != move.partner_id and not self._finvoice_address_problem(shipping, ""):
            return fv.Party(name=clip(shipping.name, 70), address=self._finvoice_address(shipping))
        return None

    # ------------------------------------------------------------------
    # invoice details
    # ------------------------------------------------------------------
    def _finvoice_header(self, move, state):
        """The FinvoiceInvoice fields of InvoiceDetails that name the invoice:
        number, dates, type, language, references and free text."""
        sign = self._finvoice_sign(move)
        values = {
            "number": clip(move.name, 20),
            "date": move.invoice_date,
            "type_code": fv.TYPE_CREDIT_NOTE if sign < 0 else fv.TYPE_INVOICE,
            "type_code_un": "381" if sign < 0 else "380",
            "language": self._finvoice_language(move),
            "currency": move.currency_id.name,
            "order_reference": clip(move.invoice_origin, 70),
            "buyer_reference": clip(move._heeros_link_buyer_reference(), 70),
            "delivery_date": (move.delivery_date or None) if "delivery_date" in move._fields else None,
        }
        if move.narration:
            values["free_text"] = [clip(html2plaintext(move.narration or ""), 512)]
        if sign < 0:
            origin = move.reversed_entry_id
            values["original_invoice_number"] = clip(origin.name, 20)
            values["original_invoice_date"] = origin.invoice_date
        return values

    def _finvoice_terms(self, move, state):
        """Payment terms: due date, penalty interest and cash discount."""
        values = {
            "payment_terms": clip(move.invoice_payment_term_id.name, 140),
            "due_date": move.invoice_date_due,
        }
        penalty = self._finvoice_penalty_rate(move, state)
        if penalty is not None:
            values["penalty_interest_percent"] = dec(penalty, 3).normalize()
        term = move.invoice_payment_term_id
        if term and getattr(term, "early_discount", False) and self._finvoice_sign(move) > 0 and move.invoice_date:
            values["cash_discount_date"] = move.invoice_date + timedelta(days=term.discount_days)
            values["cash_discount_percent"] = dec(term.discount_percentage, 3).normalize()
            values["cash_discount_amount"] = dec(
                move.amount_total * term.discount_percentage / 100.0, move.currency_id.decimal_places
            )
        return values

    def _finvoice_currency(self, move, state):
        """The accounting currency amounts of an invoice in a foreign currency."""
        company = move.company_id
        if move.currency_id == company.currency_id:
            return {}
        digits = company.currency_id.decimal_places
        values = {
            "vat_total_accounting": dec(
                sum(-line.balance for line in move.line_ids if line.display_type == "tax"), digits
            ),
            "accounting_currency": company.currency_id.name,
            "other_currency": company.currency_id.name,
            "other_currency_total_excl_vat": dec(move.amount_untaxed_signed, digits),
            "other_currency_total_incl_vat": dec(move.amount_total_signed, digits),
        }
        if move.invoice_currency_rate:
            values["exchange_rate"] = dec(move.invoice_currency_rate, 6).normalize()
        return values

    def _finvoice_totals(self, move, state, rows, vat_lines):
        """The invoice totals, the rounding and what is already paid."""
        digits = move.currency_id.decimal_places
        sign = self._finvoice_sign(move)
        total_incl = dec(move.amount_total, digits) * sign
        total_excl = dec(move.amount_untaxed, digits) * sign
        total_vat = sum((line.amount for line in vat_lines), Decimal(0))
        values = {
            "rows_total_excl_vat": sum(
                (row.total_excl_vat for row in rows if row.total_excl_vat is not None), Decimal(0)
            ),
            "total_excl_vat": total_excl,
            "total_vat": total_vat,
            "total_incl_vat": total_incl,
            "roundoff": (total_incl - total_excl - total_vat) or None,
        }
        paid = total_incl - dec(move.amount_residual, digits) * sign
        if sign > 0 and paid > 0:
            values["paid_amount"] = paid
        return values

    # ------------------------------------------------------------------
    # rows and VAT
    # ------------------------------------------------------------------
    def _finvoice_rows(self, move, state):
        """InvoiceRow of each product, section and note line, in order."""
        rows = []
        for line in self._finvoice_lines(move):
            row = self._finvoice_row(line, state, str(len(rows) + 1))
            if row is not None:
                rows.append(row)
        return rows

    def _finvoice_row_name(self, line):
        return line.product_id.name or (line.name or "").split("\n")[0]

    def _finvoice_row(self, line, state, position):
        """One InvoiceRow of an invoice line (None: the line is not written)."""
        if line.display_type in ("line_section", "line_note"):
            return fv.InvoiceRow(free_text=[clip(line.name, 512)]) if line.name else None
        if line.display_type != "product":
            return None
        move = line.move_id
        digits = move.currency_id.decimal_places
        sign = self._finvoice_sign(move)
        tax = line.tax_ids
        rate, category, _vatex, _reason = self._finvoice_vat_key(tax, move, state)
        excl = dec(line.price_subtotal, digits) * sign
        incl = dec(line.price_total, digits) * sign
        price = line.price_unit
        if tax.price_include and line.quantity:
            price = line.price_subtotal / (line.quantity * (1 - (line.discount or 0.0) / 100.0) or 1.0)
        discount = discount_amount = None
        if line.discount:
            discount = Decimal(repr(round(line.discount, 3))).normalize()
            gross = dec(line.quantity * price, digits)
            discount_amount = (gross - dec(line.price_subtotal, digits)) * sign
        description = "\n".join((line.name or "").split("\n")[1:]) if line.product_id else ""
        if line.product_id and line.name and line.name.split("\n")[0] != line.product_id.name:
            description = line.name
        return fv.InvoiceRow(
            name=clip(self._finvoice_row_name(line), 100),
            article_id=clip(line.product_id.default_code, 70),
            description=clip(description, 512),
            quantity=Decimal(repr(line.quantity)) * sign,
            unit_code=clip(line.product_uom_id.name, 14),
            unit_code_un=self._finvoice_uom_code(line.product_uom_id, state),
            unit_price=Decimal(repr(price)),
            discount_percent=discount,
            discount_amount=discount_amount,
            vat_rate=rate,
            vat_code=category,
            vat_amount=incl - excl,
            total_excl_vat=excl,
            total_incl_vat=incl,
            position=position,
        )

    def _finvoice_vat(self, move, state):
        """VatSpecificationDetails: bases from the rows, amounts from the tax
        lines, one per rate and VAT category."""
        digits = move.currency_id.decimal_places
        sign = self._finvoice_sign(move)
        groups = {}
        group_of = {}
        for line in self._finvoice_lines(move):
            if line.display_type != "product":
                continue
            key = group_of[line.tax_ids.id] = self._finvoice_vat_key(line.tax_ids, move, state)
            group = groups.setdefault(key, {"base": Decimal(0), "vat": Decimal(0)})
            group["base"] += dec(line.price_subtotal, digits) * sign
        for line in move.line_ids:
            if line.display_type == "tax" and line.tax_line_id:
                groups[group_of[line.tax_line_id.id]]["vat"] += dec(-line.amount_currency, digits)
        return [
            fv.VatLine(
                rate=rate,
                base=values["base"],
                amount=values["vat"],
                category=category,
                exemption_reason_code=vatex,
                exemption_reason=reason,
            )
            for (rate, category, vatex, reason), values in groups.items()
        ]

    # ------------------------------------------------------------------
    # payment and transmission
    # ------------------------------------------------------------------
    def _finvoice_barcode(self, iban, amount, reference, due_date, currency):
        """The virtual bank bar code, or ``""`` when the payment has none."""
        if not (fi_reference.kind(reference) and iban.startswith("FI") and currency.name == "EUR"):
            return ""
        try:
            return fi_barcode.virtual_barcode(iban, amount, reference, due_date)
        except BuildError:
            return ""

    def _finvoice_payment(self, move, state, total):
        """EpiDetails: account, reference, amount, bar code."""
        bank = self._finvoice_bank_account(move)
        sign = self._finvoice_sign(move)
        iban = identifiers.compact(bank.acc_number)
        reference = fi_reference.compact(move.payment_reference or "")
        residual = dec(move.amount_residual, move.currency_id.decimal_places)
        code = ""
        if sign > 0 and residual > 0:
            code = self._finvoice_barcode(iban, residual, reference, move.invoice_date_due, move.currency_id)
        return fv.Payment(
            accounts=[fv.BankAccount(iban=iban, bic=bank.bank_id.bic or "")],
            reference=reference,
            due_date=move.invoice_date_due or move.invoice_date,
            amount=total if sign < 0 or residual <= 0 else residual,
            barcode=code,
            payment_means_code="58" if move.currency_id.name == "EUR" else "",
            epi_date=move.invoice_date,
        )

    def _finvoice_transmission(self, prefix, state):
        """MessageTransmissionDetails: a message id unique per record and batch."""
        return fv.Transmission(message_id=f"{prefix}-{state.timestamp:%Y%m%d%H%M%S}", timestamp=state.timestamp)

    # ------------------------------------------------------------------
    # payment reminder (INV08)
    # ------------------------------------------------------------------
    def _finvoice_reminder(self, reminder, state):
        """The Finvoice payment reminder of a ``heeros.link.reminder``: the
        overdue invoice, the reminder fee and the penalty interest, all
        outside the scope of VAT. A FinvoiceInvoice, or the problems."""
        problems = [message for message in self._finvoice_reminder_constraints(reminder, state).values() if message]
        if problems:
            return problems
        move = reminder.move_id
        if not self._finvoice_bank_account(move):
            return [self.env._("The invoice has no bank account (Recipient Bank) for the payment.")]
        inv = fv.FinvoiceInvoice(
            seller=self._finvoice_company_party(move.company_id, state),
            buyer=self._finvoice_buyer(move, state),
            rows=self._finvoice_reminder_rows(reminder, state),
            **self._finvoice_reminder_details(reminder, state),
        )
        inv.payment = self._finvoice_reminder_payment(reminder, state, inv.total_incl_vat)
        inv.transmission = self._finvoice_transmission(f"HLR{reminder.id}", state)
        return fv.check(inv) or inv

    def _finvoice_reminder_constraints(self, reminder, state):
        move = reminder.move_id
        constraints = dict(self._finvoice_seller_constraints(move.company_id, state))
        constraints.update(self._finvoice_buyer_constraints(move, state))
        einvoice = move.heeros_link_einvoice_address_id
        if not einvoice or not einvoice.address or not einvoice.intermediator:
            constraints["buyer_einvoice_address"] = self.env._(
                "The customer %s has no e-invoice address with an operator.", move.commercial_partner_id.display_name
            )
        return constraints

    def _finvoice_reminder_total(self, reminder):
        digits = reminder.move_id.currency_id.decimal_places
        return dec(reminder.principal, digits) + dec(reminder.fee, digits) + dec(reminder.interest, digits)

    def _finvoice_reminder_details(self, reminder, state):
        move = reminder.move_id
        total = self._finvoice_reminder_total(reminder)
        return {
            "number": clip(reminder.name, 20),
            "date": reminder.date,
            "type_code": fv.TYPE_REMINDER,
            "language": self._finvoice_language(move),
            "currency": move.currency_id.name,
            "original_invoice_number": clip(move.name, 20),
            "original_invoice_date": move.invoice_date,
            "buyer_reference": clip(move._heeros_link_buyer_reference(), 70),
            "total_excl_vat": total,
            "total_vat": Decimal("0.00"),
            "total_incl_vat": total,
            "vat_breakdown": [
                fv.VatLine(
                    rate=Decimal(0),
                    base=total,
                    amount=Decimal("0.00"),
                    category="O",
                    exemption_reason_code="VATEX-EU-O",
                    exemption_reason=self.env._("Ei arvonlisäveron alainen / Not subject to VAT"),
                )
            ],
            "free_text": [clip(reminder.text, 512)] if reminder.text else [],
            "due_date": reminder.due_date,
            "penalty_interest_percent": (
                dec(reminder.interest_rate, 3).normalize() if reminder.interest_rate else None
            ),
        }

    def _finvoice_reminder_rows(self, reminder, state):
        """The overdue invoice, the reminder fee and the penalty interest."""
        _ = self.env._
        move = reminder.move_id
        digits = move.currency_id.decimal_places
        unpaid = dec(reminder.principal, digits)
        fee = dec(reminder.fee, digits)
        interest = dec(reminder.interest, digits)
        original_total = dec(move.amount_total, digits)
        reference = fi_reference.compact(move.payment_reference or "")
        rows = [
            fv.InvoiceRow(
                name=clip(_("Overdue invoice %s", move.name), 100),
                vat_code="O",
                total_excl_vat=unpaid,
                total_incl_vat=unpaid,
                overdue=fv.OverdueDetails(
                    original_invoice_number=clip(move.name, 20),
                    original_invoice_date=move.invoice_date,
                    original_due_date=move.invoice_date_due,
                    original_amount=original_total,
                    original_reference=reference if fi_reference.kind(reference) else "",
                    paid_amount=(original_total - unpaid) or None,
                    unpaid_amount=unpaid,
                ),
            )
        ]
        if fee:
            rows.append(
                fv.InvoiceRow(
                    name=clip(_("Reminder fee"), 100),
                    quantity=Decimal(1),
                    unit_code_un="C62",
                    unit_price=fee,
                    vat_rate=Decimal(0),
                    vat_code="O",
                    vat_amount=Decimal("0.00"),
                    total_excl_vat=fee,
                    total_incl_vat=fee,
                    overdue=fv.OverdueDetails(collection_charge=fee),
                )
            )
        if interest:
            rows.append(
                fv.InvoiceRow(
                    name=clip(_("Penalty interest"), 100),
                    vat_rate=Decimal(0),
                    vat_code="O",
                    vat_amount=Decimal("0.00"),
                    total_excl_vat=interest,
                    total_incl_vat=interest,
                    free_text=[clip(reminder.computation, 512)] if reminder.computation else [],
                    overdue=fv.OverdueDetails(
                        original_invoice_number=clip(move.name, 20),
                        unpaid_amount=unpaid,
                        interest_percent=dec(reminder.interest_rate, 3).normalize(),
                        interest_start=reminder.interest_from,
                        interest_end=reminder.interest_to,
                        interest_days=str(reminder.interest_days),
                        interest_amount=interest,
                    ),
                )
            )
        return rows

    def _finvoice_reminder_payment(self, reminder, state, total):
        move = reminder.move_id
        bank = self._finvoice_bank_account(move)
        iban = identifiers.compact(bank.acc_number)
        reference = fi_reference.compact(move.payment_reference or "")
        valid = bool(fi_reference.kind(reference))
        return fv.Payment(
            accounts=[fv.BankAccount(iban=iban, bic=bank.bank_id.bic or "")],
            reference=reference if valid else "",
            due_date=reminder.due_date,
            amount=total,
            barcode=self._finvoice_barcode(iban, total, reference, reminder.due_date, move.currency_id),
            payment_means_code="58" if move.currency_id.name == "EUR" else "",
            epi_date=reminder.date,
        )
