"""From Odoo invoices to the Finvoice dataclasses of ``formats.finvoice``.

:class:`FinvoiceMapper` reads a batch of ``account.move`` records once
(prefetched together) and returns one :class:`~..formats.finvoice.FinvoiceInvoice`
per invoice, or the list of problems that stop the invoice from being an
e-invoice. Everything that is the same for many invoices (the seller, units
of measure, VAT codes of a tax) is computed once per batch.
"""

import dataclasses
import textwrap
from datetime import UTC, datetime
from decimal import Decimal

from odoo.addons.heeros_link_base.formats import reference as fi_reference
from odoo.addons.heeros_link_base.formats.errors import BuildError

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
    lines = textwrap.wrap(" ".join(str(text or "").split()), size)[:count]
    return lines


class FinvoiceMapper:
    """Map invoices to Finvoice dataclasses.

    ``map(moves)`` returns ``{move: FinvoiceInvoice or [problems]}``.
    """

    def __init__(self, env, timestamp=None):
        self.env = env
        self.timestamp = timestamp or datetime.now(UTC).replace(microsecond=0)
        self._uom_codes = {}
        self._tax_codes = {}
        self._sellers = {}
        self._penalty_rates = {}
        self._unece = env["account.edi.common"]
        self._ = env._

    # ------------------------------------------------------------------
    # cached pieces
    # ------------------------------------------------------------------
    def uom_code(self, uom):
        if not uom:
            return "C62"
        code = self._uom_codes.get(uom.id)
        if code is None:
            code = self._uom_codes[uom.id] = self._unece._get_uom_unece_code(uom)
        return code

    def vat_codes(self, tax, supplier, customer):
        key = (tax.id, supplier.country_id.id, customer.country_id.id, bool(supplier.vat))
        codes = self._tax_codes.get(key)
        if codes is None:
            codes = self._tax_codes[key] = tax._heeros_link_vat_codes(supplier, customer)
        return codes

    def seller(self, company):
        """``(Party, problems)`` of a company, computed once per batch."""
        cached = self._sellers.get(company.id)
        if cached is not None:
            return cached
        problems = []
        partner = company.partner_id
        business_id = identifiers.business_id_compact(
            company.company_registry or identifiers.business_id_from_vat(company.vat))
        if not business_id:
            problems.append(self._("The company %s has no business ID (Company ID).", company.name))
        else:
            problem = identifiers.check_business_id(business_id)
            if problem:
                problems.append(self._("Company %(company)s: %(problem)s", company=company.name, problem=problem))
        own = company._heeros_link_own_address()
        if not own or not own.address or not own.intermediator:
            problems.append(self._(
                "The company %s has no own e-invoice address with an operator: add it on the "
                "company (Heeros Link e-invoicing).", company.name))
        problems += self.address_problems(partner, self._("The company %s", company.name))
        party = fv.Party(
            name=clip(company.name, 140),
            business_id=business_id,
            business_id_scheme="0212" if business_id else "",
            vat_number=company.vat or "",
            address=self.address(partner),
            organisation_unit_number=own.address if own and own.address_kind == "ovt" else "",
            einvoice_address=own._to_finvoice() if own else None,
        )
        cached = self._sellers[company.id] = (party, problems)
        return cached

    def penalty_rate(self, move):
        """The invoice's penalty interest: agreed, else the Interest Act rate of
        the invoice date's half-year (looked up once per company and half-year)."""
        if move.heeros_link_penalty_rate:
            return move.heeros_link_penalty_rate
        day = move.invoice_date
        if not day:
            return None
        key = (move.company_id.id, day.year, day.month <= 6)
        if key not in self._penalty_rates:
            self._penalty_rates[key] = move._heeros_link_penalty_rate(day)
        return self._penalty_rates[key]

    # ------------------------------------------------------------------
    # parts
    # ------------------------------------------------------------------
    @staticmethod
    def address(partner):
        streets = [s for s in (partner.street, partner.street2) if s]
        lines = []
        for street in streets:
            lines += wrap(street, 35, 3)
        return fv.Address(
            streets=lines[:3],
            town=clip(partner.city, 35),
            post_code=clip(partner.zip, 35),
            country_code=partner.country_id.code or "",
            country_name=partner.country_id.name or "" if partner.country_id.code != "FI" else "",
        )

    def address_problems(self, partner, who):
        missing = [label for label, value in (
            (self._("street"), partner.street or partner.street2),
            (self._("post code"), partner.zip), (self._("city"), partner.city),
            (self._("country"), partner.country_id)) if not value]
        if missing:
            return [self._("%(who)s has no %(missing)s in its address.", who=who,
                      missing=", ".join(str(m) for m in missing))]
        if len((partner.city or "").strip()) < 2 or len((partner.zip or "").strip()) < 2:
            return [self._("%s has a city or post code shorter than two characters.", who)]
        return []

    def buyer(self, move, problems):
        commercial = move.commercial_partner_id
        partner = move.partner_id
        business_id = ""
        if commercial.country_id.code == "FI" or identifiers.business_id_from_vat(commercial.vat):
            business_id = identifiers.business_id_compact(
                commercial.company_registry or identifiers.business_id_from_vat(commercial.vat))
            if business_id:
                problem = identifiers.check_business_id(business_id)
                if problem:
                    problems.append(self._("Customer %(partner)s: %(problem)s",
                                      partner=commercial.display_name, problem=problem))
        problems += self.address_problems(partner, self._("The customer %s", partner.display_name))
        contact = None
        if partner != commercial or partner.email:
            contact = fv.Contact(
                name=clip(partner.name, 70) if partner != commercial else "",
                phone=clip(partner.phone, 35), email=clip(partner.email, 70))
        einvoice = move.heeros_link_einvoice_address_id
        return fv.Party(
            name=clip(commercial.name, 140),
            business_id=business_id,
            business_id_scheme="0212" if business_id else "",
            vat_number=commercial.vat or "",
            address=self.address(partner),
            organisation_unit_number=einvoice.address if einvoice.address_kind == "ovt" else "",
            einvoice_address=einvoice._to_finvoice() if einvoice else None,
            contact=contact,
        )

    def payment(self, move, sign, problems, total):
        bank = move.partner_bank_id
        if not bank:
            problems.append(self._("The invoice has no bank account (Recipient Bank) for the payment."))
            return None
        iban = identifiers.compact(bank.acc_number)
        bic = bank.bank_id.bic or ""
        if not bic:
            problems.append(self._("Bank account %s has no BIC: set the bank on the account.", bank.acc_number))
        reference = fi_reference.compact(move.payment_reference or "")
        kind = fi_reference.kind(reference) if reference else None
        if reference and not kind:
            problems.append(self._(
                "Payment reference %s is neither a valid Finnish reference nor a valid RF creditor "
                "reference: correct it (or set the journal's communication standard to the Finnish "
                "reference) before sending.", move.payment_reference))
            reference = ""
        residual = dec(move.amount_residual, move.currency_id.decimal_places)
        amount = total if sign < 0 or residual <= 0 else residual
        code = ""
        if kind and sign > 0 and residual > 0 and iban.startswith("FI") \
                and move.currency_id.name == "EUR":
            try:
                code = fi_barcode.virtual_barcode(iban, residual, reference, move.invoice_date_due)
            except BuildError:
                code = ""
        return fv.Payment(
            accounts=[fv.BankAccount(iban=iban, bic=bic)],
            reference=reference,
            due_date=move.invoice_date_due or move.invoice_date,
            amount=amount,
            barcode=code,
            payment_means_code="58" if move.currency_id.name == "EUR" else "",
            epi_date=move.invoice_date,
        )

    # ------------------------------------------------------------------
    # one invoice
    # ------------------------------------------------------------------
    def invoice(self, move):
        """A FinvoiceInvoice, or the list of problems."""
        problems = []
        company = move.company_id
        currency = move.currency_id
        digits = currency.decimal_places
        seller, seller_problems = self.seller(company)
        seller = dataclasses.replace(seller)
        problems += seller_problems
        if move.move_type not in ("out_invoice", "out_refund"):
            return [self._("Only customer invoices and credit notes are sent as e-invoices.")]
        sign = -1 if move.move_type in CREDIT_NOTE_TYPES else 1
        buyer = self.buyer(move, problems)
        einvoice = move.heeros_link_einvoice_address_id
        if not einvoice or not einvoice.address or not einvoice.intermediator:
            problems.append(self._(
                "The customer %s has no e-invoice address with an operator: add one on the "
                "customer (or choose one on the invoice).", move.commercial_partner_id.display_name))
        supplier_partner = company.partner_id
        customer_partner = move.commercial_partner_id

        rows = []
        groups = {}
        tax_group_of = {}
        for line in move.invoice_line_ids.sorted(lambda row: (row.sequence, row.id)):
            if line.display_type in ("line_section", "line_note"):
                if line.name:
                    rows.append(fv.InvoiceRow(free_text=[clip(line.name, 512)]))
                continue
            if line.display_type != "product":
                continue
            taxes = line.tax_ids
            name = line.product_id.name or (line.name or "").split("\n")[0]
            if len(taxes) != 1:
                problems.append(self._(
                    "Row '%(row)s' has %(count)s taxes; an e-invoice row needs exactly one VAT "
                    "rate (use a 0 %% tax with a VAT category for exempt sales).",
                    row=name, count=len(taxes)))
                continue
            tax = taxes
            category, vatex, reason = self.vat_codes(tax, supplier_partner, customer_partner)
            rate = dec(tax.amount if tax.amount_type == "percent" else 0.0, 3).normalize()
            key = (rate, category, vatex, reason)
            groups.setdefault(key, {"base": Decimal(0), "vat": Decimal(0)})
            tax_group_of[tax.id] = key
            excl = dec(line.price_subtotal, digits) * sign
            incl = dec(line.price_total, digits) * sign
            groups[key]["base"] += excl
            quantity = Decimal(repr(line.quantity)) * sign
            price = line.price_unit
            if tax.price_include and line.quantity:
                net = line.price_subtotal / (line.quantity * (1 - (line.discount or 0.0) / 100.0) or 1.0)
                price = net
            discount = None
            discount_amount = None
            if line.discount:
                discount = Decimal(repr(round(line.discount, 3))).normalize()
                gross = dec(line.quantity * price, digits)
                discount_amount = (gross - dec(line.price_subtotal, digits)) * sign
            description = "\n".join((line.name or "").split("\n")[1:]) if line.product_id else ""
            if line.product_id and line.name and line.name.split("\n")[0] != line.product_id.name:
                description = line.name
            rows.append(fv.InvoiceRow(
                name=clip(name, 100),
                article_id=clip(line.product_id.default_code, 70),
                description=clip(description, 512),
                quantity=quantity,
                unit_code=clip(line.product_uom_id.name, 14),
                unit_code_un=self.uom_code(line.product_uom_id),
                unit_price=Decimal(repr(price)),
                discount_percent=discount,
                discount_amount=discount_amount,
                vat_rate=rate,
                vat_code=category,
                vat_amount=incl - excl,
                total_excl_vat=excl,
                total_incl_vat=incl,
                position=str(len(rows) + 1),
            ))
        for line in move.line_ids:
            if line.display_type == "tax" and line.tax_line_id:
                key = tax_group_of.get(line.tax_line_id.id)
                if key is None:
                    problems.append(self._("Tax %s has a tax line but no invoice row.", line.tax_line_id.name))
                    continue
                groups[key]["vat"] += dec(-line.amount_currency, digits)
        if not any(row.quantity is not None or row.total_excl_vat is not None for row in rows):
            problems.append(self._("The invoice has no product rows."))
        total_incl = dec(move.amount_total, digits) * sign
        payment = self.payment(move, sign, problems, total_incl)
        if sign < 0 and not move.reversed_entry_id:
            problems.append(self._("The credit note does not say which invoice it credits: create it "
                              "with 'Credit Note' on the original invoice."))
        if problems:
            return problems

        vat_lines = [
            fv.VatLine(rate=rate, base=values["base"], amount=values["vat"], category=category,
                       exemption_reason_code=vatex, exemption_reason=reason)
            for (rate, category, vatex, reason), values in groups.items()
        ]
        total_excl = dec(move.amount_untaxed, digits) * sign
        total_vat = sum((line.amount for line in vat_lines), Decimal(0))
        roundoff = total_incl - total_excl - total_vat
        inv = fv.FinvoiceInvoice(
            number=clip(move.name, 20),
            date=move.invoice_date,
            type_code=fv.TYPE_CREDIT_NOTE if sign < 0 else fv.TYPE_INVOICE,
            type_code_un="381" if sign < 0 else "380",
            seller=seller,
            buyer=buyer,
            language=LANGUAGES.get((move.partner_id.lang or "fi")[:2], "EN"),
            currency=currency.name,
            order_reference=clip(move.invoice_origin, 70),
            buyer_reference=clip(move._heeros_link_buyer_reference(), 70),
            rows_total_excl_vat=sum((r.total_excl_vat for r in rows if r.total_excl_vat is not None),
                                    Decimal(0)),
            total_excl_vat=total_excl,
            total_vat=total_vat,
            total_incl_vat=total_incl,
            roundoff=roundoff or None,
            vat_breakdown=vat_lines,
            payment_terms=clip(move.invoice_payment_term_id.name, 140),
            due_date=move.invoice_date_due,
            rows=rows,
            delivery_date=(move.delivery_date or None) if "delivery_date" in move._fields else None,
        )
        if move.narration:
            inv.free_text = [clip(self._plain(move.narration), 512)]
        if sign < 0:
            origin = move.reversed_entry_id
            inv.original_invoice_number = clip(origin.name, 20)
            inv.original_invoice_date = origin.invoice_date
        if move.partner_shipping_id and move.partner_shipping_id != move.partner_id \
                and not self.address_problems(move.partner_shipping_id, ""):
            inv.delivery = fv.Party(name=clip(move.partner_shipping_id.name, 70),
                                    address=self.address(move.partner_shipping_id))
        penalty = self.penalty_rate(move)
        if penalty is not None:
            inv.penalty_interest_percent = dec(penalty, 3).normalize()
        term = move.invoice_payment_term_id
        if term and getattr(term, "early_discount", False) and sign > 0 and move.invoice_date:
            from datetime import timedelta

            inv.cash_discount_date = move.invoice_date + timedelta(days=term.discount_days)
            inv.cash_discount_percent = dec(term.discount_percentage, 3).normalize()
            inv.cash_discount_amount = dec(move.amount_total * term.discount_percentage / 100.0, digits)
        if currency != company.currency_id:
            company_digits = company.currency_id.decimal_places
            vat_company = sum(-line.balance for line in move.line_ids
                              if line.display_type == "tax")
            inv.vat_total_accounting = dec(vat_company, company_digits)
            inv.accounting_currency = company.currency_id.name
            if move.invoice_currency_rate:
                inv.exchange_rate = dec(move.invoice_currency_rate, 6).normalize()
            inv.other_currency = company.currency_id.name
            inv.other_currency_total_excl_vat = dec(move.amount_untaxed_signed, company_digits)
            inv.other_currency_total_incl_vat = dec(move.amount_total_signed, company_digits)
        inv.payment = payment
        paid = total_incl - dec(move.amount_residual, digits) * sign
        if sign > 0 and paid > 0:
            inv.paid_amount = paid
        inv.transmission = fv.Transmission(
            message_id=f"HL{move.id}-{self.timestamp:%Y%m%d%H%M%S}",
            timestamp=self.timestamp,
        )
        contact = move.invoice_user_id
        if contact:
            inv.seller.contact = fv.Contact(name=clip(contact.name, 70),
                                            email=clip(contact.email or company.email, 70),
                                            phone=clip(company.phone, 35))
        problems = fv.check(inv)
        return problems or inv

    @staticmethod
    def _plain(html):
        from odoo.tools import html2plaintext

        return html2plaintext(html or "")

    def map(self, moves):
        return {move: self.invoice(move) for move in moves}

    # ------------------------------------------------------------------
    # payment reminder (INV08)
    # ------------------------------------------------------------------
    def reminder(self, reminder):
        """The Finvoice payment reminder of a ``heeros.link.reminder``: the
        overdue invoice, the reminder fee and the penalty interest, all
        outside the scope of VAT."""
        move = reminder.move_id
        company = move.company_id
        digits = move.currency_id.decimal_places
        problems = []
        seller, seller_problems = self.seller(company)
        seller = dataclasses.replace(seller)
        problems += seller_problems
        buyer = self.buyer(move, problems)
        einvoice = move.heeros_link_einvoice_address_id
        if not einvoice or not einvoice.address or not einvoice.intermediator:
            problems.append(self._("The customer %s has no e-invoice address with an operator.",
                              move.commercial_partner_id.display_name))
        unpaid = dec(reminder.principal, digits)
        fee = dec(reminder.fee, digits)
        interest = dec(reminder.interest, digits)
        total = unpaid + fee + interest
        original_total = dec(move.amount_total, digits)
        reference = fi_reference.compact(move.payment_reference or "")
        not_vat = self._("Ei arvonlisäveron alainen / Not subject to VAT")
        rows = [fv.InvoiceRow(
            name=clip(self._("Overdue invoice %s", move.name), 100), vat_code="O",
            total_excl_vat=unpaid, total_incl_vat=unpaid,
            overdue=fv.OverdueDetails(
                original_invoice_number=clip(move.name, 20),
                original_invoice_date=move.invoice_date,
                original_due_date=move.invoice_date_due,
                original_amount=original_total,
                original_reference=reference if fi_reference.kind(reference) else "",
                paid_amount=(original_total - unpaid) or None,
                unpaid_amount=unpaid))]
        if fee:
            rows.append(fv.InvoiceRow(
                name=clip(self._("Reminder fee"), 100), quantity=Decimal(1), unit_code_un="C62",
                unit_price=fee, vat_rate=Decimal(0), vat_code="O", vat_amount=Decimal("0.00"),
                total_excl_vat=fee, total_incl_vat=fee,
                overdue=fv.OverdueDetails(collection_charge=fee)))
        if interest:
            rows.append(fv.InvoiceRow(
                name=clip(self._("Penalty interest"), 100), vat_rate=Decimal(0), vat_code="O",
                vat_amount=Decimal("0.00"), total_excl_vat=interest, total_incl_vat=interest,
                free_text=[clip(reminder.computation, 512)] if reminder.computation else [],
                overdue=fv.OverdueDetails(
                    original_invoice_number=clip(move.name, 20), unpaid_amount=unpaid,
                    interest_percent=dec(reminder.interest_rate, 3).normalize(),
                    interest_start=reminder.interest_from, interest_end=reminder.interest_to,
                    interest_days=str(reminder.interest_days), interest_amount=interest)))
        if problems:
            return problems
        inv = fv.FinvoiceInvoice(
            number=clip(reminder.name, 20), date=reminder.date, type_code=fv.TYPE_REMINDER,
            seller=seller, buyer=buyer,
            language=LANGUAGES.get((move.partner_id.lang or "fi")[:2], "EN"),
            currency=move.currency_id.name,
            original_invoice_number=clip(move.name, 20), original_invoice_date=move.invoice_date,
            buyer_reference=clip(move._heeros_link_buyer_reference(), 70),
            total_excl_vat=total, total_vat=Decimal("0.00"), total_incl_vat=total,
            vat_breakdown=[fv.VatLine(rate=Decimal(0), base=total, amount=Decimal("0.00"),
                                      category="O", exemption_reason_code="VATEX-EU-O",
                                      exemption_reason=not_vat)],
            free_text=[clip(reminder.text, 512)] if reminder.text else [],
            due_date=reminder.due_date,
            penalty_interest_percent=(dec(reminder.interest_rate, 3).normalize()
                                      if reminder.interest_rate else None),
            rows=rows,
        )
        bank = move.partner_bank_id
        if not bank:
            return [self._("The invoice has no bank account (Recipient Bank) for the payment.")]
        iban = identifiers.compact(bank.acc_number)
        code = ""
        if fi_reference.kind(reference) and iban.startswith("FI") and move.currency_id.name == "EUR":
            try:
                code = fi_barcode.virtual_barcode(iban, total, reference, reminder.due_date)
            except BuildError:
                code = ""
        inv.payment = fv.Payment(
            accounts=[fv.BankAccount(iban=iban, bic=bank.bank_id.bic or "")],
            reference=reference if fi_reference.kind(reference) else "",
            due_date=reminder.due_date, amount=total, barcode=code,
            payment_means_code="58" if move.currency_id.name == "EUR" else "", epi_date=reminder.date)
        inv.transmission = fv.Transmission(
            message_id=f"HLR{reminder.id}-{self.timestamp:%Y%m%d%H%M%S}", timestamp=self.timestamp)
        return fv.check(inv) or inv
