from odoo import Command, api, models

#: per demo company of the bank addon's demo: own OVT suffix-free address and operator
DEMO_COMPANIES = {
    "bureau": ("003723456780", "heeros_link_einvoice.operator_maventa", "tax_dom_sales_service_25_5"),
    "aurinko": ("003715728600", "heeros_link_einvoice.operator_apix", "tax_dom_sales_goods_14"),
    "kivi": ("003713579138", "heeros_link_einvoice.operator_opuscapita", "tax_dom_sales_service_25_5"),
}
DEMO_SHORT_NAMES = {"bureau": "Tase", "aurinko": "Aurinko", "kivi": "Kivi"}
DEMO_INBOXES = {
    "bureau": "heeros_link_einvoice/demo/inbox/bureau",
    "aurinko": "heeros_link_einvoice/demo/inbox/aurinko",
    "kivi": "heeros_link_einvoice/demo/inbox/kivi",
}


class ResCompanyEinvoiceDemo(models.Model):
    _inherit = "res.company"

    @api.model
    def _heeros_link_demo_einvoicing(self):
        """E-invoicing for the companies of the Link's bank demo, when it is
        installed: each company's own e-invoice address, an operator folder
        connection (e-invoices out, purchase invoices in), reminder levels,
        e-invoice addresses of the demo customers (Finvoice and Peppol) and
        open invoices that can be sent at once, some of them overdue."""
        ref = self.env.ref
        if not ref("heeros_link_bank.demo_company_aurinko", raise_if_not_found=False):
            return False
        self._heeros_link_demo_load(
            "heeros.link.einvoice.address",
            [
                (
                    f"demo_address_{key}",
                    {
                        "partner_id": ref(f"heeros_link_bank.demo_company_{key}").partner_id.id,
                        "address": address,
                        "operator_id": ref(operator).id,
                        "delivery": "finvoice",
                        "is_default": True,
                    },
                )
                for key, (address, operator, _tax) in DEMO_COMPANIES.items()
            ],
        )
        self._heeros_link_demo_customers()
        for key in DEMO_COMPANIES:
            self._heeros_link_demo_company(key)
        self._heeros_link_demo_inboxes()
        return True

    @api.model
    def _heeros_link_demo_load(self, model, rows):
        """Create (or update) records with the xml ids of ``rows`` ``(name, values)``."""
        return self.env[model]._load_records(
            [{"xml_id": f"heeros_link_einvoice.{name}", "values": values, "noupdate": True} for name, values in rows]
        )

    @api.model
    def _heeros_link_demo_customers(self):
        ref = self.env.ref
        esimerkki = ref("heeros_link_bank.demo_partner_esimerkki")
        self._heeros_link_demo_load(
            "res.partner",
            [
                (
                    "demo_partner_pirkka",
                    {
                        "name": "Pirkanmaan Palvelut Oy",
                        "is_company": True,
                        "street": "Hatanpään valtatie 30",
                        "zip": "33100",
                        "city": "Tampere",
                        "country_id": ref("base.fi").id,
                        "vat": "FI01120389",
                        "company_registry": "0112038-9",
                        "email": "ostolaskut@pirkka.example",
                    },
                )
            ],
        )
        self._heeros_link_demo_load(
            "heeros.link.einvoice.address",
            [
                (
                    "demo_address_esimerkki",
                    {
                        "partner_id": esimerkki.id,
                        "address": "003712345671",
                        "operator_id": ref("heeros_link_einvoice.operator_basware").id,
                        "delivery": "finvoice",
                        "is_default": True,
                    },
                ),
                (
                    "demo_address_pirkka",
                    {
                        "partner_id": ref("heeros_link_einvoice.demo_partner_pirkka").id,
                        "address": "003701120389",
                        "operator_id": ref("heeros_link_einvoice.operator_tietoevry").id,
                        "delivery": "peppol",
                        "is_default": True,
                    },
                ),
                (
                    "demo_address_matti",
                    {
                        "partner_id": ref("heeros_link_bank.demo_partner_matti").id,
                        "delivery": "email",
                        "is_default": True,
                    },
                ),
            ],
        )

    @api.model
    def _heeros_link_demo_company(self, key):
        ref = self.env.ref
        company = ref(f"heeros_link_bank.demo_company_{key}")
        # the Finnish reference on the sales journal (the bank demo loaded the chart first)
        self.env["account.chart.template"]._heeros_link_apply_fi_defaults(company)
        tax = ref(f"account.{company.id}_{DEMO_COMPANIES[key][2]}")
        journal = ref(f"account.{company.id}_sale")
        self._heeros_link_demo_load(
            "heeros.link.reminder.level",
            [
                (
                    f"demo_reminder_level_{key}_1",
                    {
                        "company_id": company.id,
                        "sequence": 10,
                        "name": "Maksumuistutus",
                        "days_overdue": 7,
                        "fee": 5.0,
                        "charge_interest": False,
                        "text": "Laskunne on erääntynyt. Pyydämme maksamaan sen viipymättä.",
                    },
                ),
                (
                    f"demo_reminder_level_{key}_2",
                    {
                        "company_id": company.id,
                        "sequence": 20,
                        "name": "Toinen maksumuistutus",
                        "days_overdue": 21,
                        "fee": 5.0,
                        "charge_interest": True,
                        "text": "Laskunne on yhä maksamatta. Viivästyskorko lasketaan eräpäivästä alkaen.",
                    },
                ),
            ],
        )
        self._heeros_link_demo_load(
            "heeros.link.connection",
            [
                (
                    f"demo_connection_operator_{key}",
                    {
                        "name": f"{DEMO_SHORT_NAMES[key]}: e-invoice operator",
                        "sequence": 5,
                        "protocol": "local",
                        "company_id": company.id,
                        "company_ids": [Command.set(company.ids)],
                        "fetch_scheduled": False,
                    },
                )
            ],
        )
        invoices = self._heeros_link_demo_load(
            "account.move",
            [
                (
                    f"demo_invoice_{key}_pirkka",
                    {
                        "move_type": "out_invoice",
                        "journal_id": journal.id,
                        "partner_id": ref("heeros_link_einvoice.demo_partner_pirkka").id,
                        "invoice_date": "2026-10-15",
                        "invoice_date_due": "2026-10-29",
                        "invoice_line_ids": [
                            Command.create(
                                {
                                    "name": "Palvelut, syyskuu",
                                    "quantity": 2.0,
                                    "price_unit": 300.0,
                                    "tax_ids": [Command.set(tax.ids)],
                                }
                            ),
                            Command.create(
                                {
                                    "name": "Matkakulut",
                                    "quantity": 1.0,
                                    "price_unit": 80.0,
                                    "tax_ids": [Command.set(tax.ids)],
                                }
                            ),
                        ],
                    },
                ),
                (
                    f"demo_invoice_{key}_esimerkki_3",
                    {
                        "move_type": "out_invoice",
                        "journal_id": journal.id,
                        "partner_id": ref("heeros_link_bank.demo_partner_esimerkki").id,
                        "invoice_date": "2026-11-20",
                        "invoice_date_due": "2026-12-04",
                        "invoice_line_ids": [
                            Command.create(
                                {
                                    "name": "Palvelut, marraskuu",
                                    "quantity": 3.0,
                                    "price_unit": 120.0,
                                    "tax_ids": [Command.set(tax.ids)],
                                }
                            ),
                        ],
                    },
                ),
            ],
        )
        invoices.filtered(lambda m: m.state == "draft").action_post()

    @api.model
    def _heeros_link_demo_inboxes(self):
        """Purchase invoices (Finvoice and Peppol) waiting in the operator
        folders: fetched now, they become draft bills of their companies."""
        from odoo.tools.misc import file_path

        folders = {}
        for key, folder in DEMO_INBOXES.items():
            try:
                file_path(folder)
            except FileNotFoundError:
                continue
            folders[f"heeros_link_einvoice.demo_connection_operator_{key}"] = folder
        if folders:
            self.env["heeros.link.connection"]._link_demo_seed(folders)
