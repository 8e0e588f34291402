{
    "name": "Heeros Link: E-invoicing",
    "summary": "Finvoice 3.0 and Peppol BIS Billing 3.0 in and out, e-invoice addresses, "
    "Finnish bank barcode, payment reminders",
    "version": "18.0.1.0.0",
    "category": "Accounting/Accounting",
    "author": "Heeros Link for Odoo contributors",
    "website": "https://github.com/heeros-link/heeros-link-odoo",
    "license": "LGPL-3",
    "depends": ["heeros_link_base", "account_edi_ubl_cii", "l10n_fi"],
    "external_dependencies": {"python": ["lxml", "xmlschema", "saxonche"]},
    "data": [],
    "installable": True,
}
