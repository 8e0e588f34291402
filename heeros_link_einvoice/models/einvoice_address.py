from odoo import _, api, fields, models
from odoo.addons.heeros_link_base.texts import in_lang
from odoo.exceptions import ValidationError

from .. import identifiers

DELIVERY = [
    ("finvoice", "Finvoice e-invoice"),
    ("peppol", "Peppol BIS Billing 3.0"),
    ("email", "PDF by e-mail"),
    ("print", "Printed letter"),
]


class HeerosLinkEinvoiceAddress(models.Model):
    """Where and how a partner (or a company, through its partner) receives
    invoices: e-invoice address and operator, Peppol endpoint, preferred
    delivery. A partner may have several, one of them the default."""

    _name = "heeros.link.einvoice.address"
    _description = "E-invoice address"
    _order = "partner_id, is_default desc, sequence, id"
    _rec_names_search = ["address", "label", "peppol_endpoint"]

    partner_id = fields.Many2one("res.partner", required=True, ondelete="cascade", index=True)
    label = fields.Char("Department / label", help="Which unit of the receiver this address is for, e.g. 'Purchasing'.")
    address = fields.Char(
        "E-invoice address",
        help="OVT code (0037 + the 8 digits of the business ID + an optional suffix of up to 5 "
        "characters) or, for bank e-invoicing, an IBAN.",
    )
    address_kind = fields.Selection(
        [("ovt", "OVT code"), ("iban", "IBAN"), ("other", "Other")], compute="_compute_address_kind", store=True
    )
    operator_id = fields.Many2one(
        "heeros.link.einvoice.operator",
        "Operator / bank",
        help="The receiver's e-invoice operator or bank (intermediator).",
    )
    intermediator = fields.Char(
        "Operator ID",
        compute="_compute_intermediator",
        store=True,
        readonly=False,
        help="Intermediator identifier; filled in from the operator, or typed in for an operator "
        "that is not in the list.",
    )
    peppol_eas = fields.Selection(
        selection=lambda self: self.env["res.partner"]._fields["peppol_eas"].selection,
        string="Peppol scheme",
        compute="_compute_peppol",
        store=True,
        readonly=False,
        help="Peppol electronic address scheme: 0216 for an OVT code, 0213 for a Finnish VAT number.",
    )
    peppol_endpoint = fields.Char("Peppol endpoint", compute="_compute_peppol", store=True, readonly=False)
    delivery = fields.Selection(DELIVERY, "Preferred delivery", required=True, default="finvoice")
    is_default = fields.Boolean("Default", help="Used for new invoices of this partner.")
    sequence = fields.Integer(default=10)
    active = fields.Boolean(default=True)

    @api.depends("address")
    def _compute_address_kind(self):
        for record in self:
            record.address_kind = identifiers.address_kind(record.address) if record.address else False

    @api.depends("operator_id")
    def _compute_intermediator(self):
        for record in self:
            if record.operator_id:
                record.intermediator = record.operator_id.code
            elif not record.intermediator:
                record.intermediator = False

    @api.depends("address", "partner_id.vat")
    def _compute_peppol(self):
        for record in self:
            eas, endpoint = identifiers.default_peppol_endpoint(
                record.address, record.partner_id.commercial_partner_id.vat
            )
            if endpoint:
                record.peppol_eas, record.peppol_endpoint = eas, endpoint
            elif not record.peppol_endpoint:
                record.peppol_eas = record.peppol_eas or False
                record.peppol_endpoint = record.peppol_endpoint or False

    @api.depends("address", "label", "intermediator", "delivery")
    def _compute_display_name(self):
        delivery = dict(DELIVERY)
        for record in self:
            text = record.address or delivery.get(record.delivery, "")
            if record.intermediator and record.address:
                text = f"{text} / {record.intermediator}"
            if record.label:
                text = f"{record.label}: {text}"
            record.display_name = text

    @api.onchange("address")
    def _onchange_address(self):
        if self.address:
            self.address = identifiers.compact(self.address)

    # ------------------------------------------------------------------
    # validation
    # ------------------------------------------------------------------
    def _problems(self):
        """Every problem of this address as a sentence (empty when valid)."""
        self.ensure_one()
        problems = []
        if self.address:
            problem = identifiers.check_einvoice_address(self.address)
            if problem:
                problems.append(in_lang(problem, self.env.lang))
        if self.delivery == "finvoice":
            if not self.address:
                problems.append(_("Finvoice delivery needs an e-invoice address."))
            if not self.intermediator:
                problems.append(_("Finvoice delivery needs the receiver's operator or bank."))
        if self.delivery == "peppol" and not (self.peppol_eas and self.peppol_endpoint):
            problems.append(_("Peppol delivery needs a Peppol scheme and endpoint."))
        if self.peppol_endpoint:
            problem = self._peppol_problem(self.peppol_eas, self.peppol_endpoint)
            if problem:
                problems.append(problem)
        return problems

    @api.model
    def _peppol_problem(self, eas, endpoint):
        if not eas:
            return _("Peppol endpoint %s has no scheme.", endpoint)
        if eas == identifiers.EAS_OVT:
            problem = in_lang(identifiers.check_ovt(endpoint), self.env.lang)
            return _("Peppol endpoint (0216): %s", problem) if problem else None
        if eas == identifiers.EAS_FI_VAT:
            business_id = identifiers.business_id_from_vat(endpoint)
            if not business_id:
                return _("Peppol endpoint (0213) %s is not a Finnish VAT number (FI and 8 digits).", endpoint)
            problem = in_lang(identifiers.check_business_id(business_id), self.env.lang)
            return (
                _("Peppol endpoint (0213) %(endpoint)s: %(problem)s", endpoint=endpoint, problem=problem)
                if problem
                else None
            )
        return self.env["res.partner"]._build_error_peppol_endpoint(eas, endpoint) or None

    @api.constrains("address", "intermediator", "delivery", "peppol_eas", "peppol_endpoint")
    def _check_address(self):
        for record in self:
            problems = record._problems()
            if problems:
                raise ValidationError(
                    _(
                        "E-invoice address of %(partner)s:\n%(problems)s",
                        partner=record.partner_id.display_name,
                        problems="\n".join(f"- {p}" for p in problems),
                    )
                )

    # ------------------------------------------------------------------
    # one default per partner
    # ------------------------------------------------------------------
    @api.model_create_multi
    def create(self, vals_list):
        for vals in vals_list:
            for key in ("address", "intermediator", "peppol_endpoint"):
                if vals.get(key):
                    vals[key] = identifiers.compact(vals[key])
        records = super().create(vals_list)
        for record in records:
            if record.is_default:
                record._make_only_default()
            elif not record.partner_id.heeros_link_einvoice_address_ids.filtered("is_default"):
                record.is_default = True
        return records

    def write(self, vals):
        for key in ("address", "intermediator", "peppol_endpoint"):
            if vals.get(key):
                vals[key] = identifiers.compact(vals[key])
        result = super().write(vals)
        if vals.get("is_default"):
            for record in self:
                record._make_only_default()
        return result

    def _make_only_default(self):
        others = self.partner_id.heeros_link_einvoice_address_ids - self
        others.filtered("is_default").write({"is_default": False})

    def _to_finvoice(self):
        """The address as a Finvoice ``EInvoiceAddress`` (or None)."""
        from ..formats import finvoice

        self.ensure_one()
        if not self.address:
            return None
        return finvoice.EInvoiceAddress(
            address=self.address,
            intermediator=self.intermediator or "",
            scheme_id="0037" if self.address_kind == "ovt" else "",
        )
