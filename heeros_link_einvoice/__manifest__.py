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
    "external_dependencies": {"python": ["lxml", "xmlschema", "saxonche", "pypdf"]},
    "data": [
        "security/ir.model.access.csv",
        "security/heeros_link_einvoice_security.xml",
        "data/einvoice_operator_data.xml",
        "data/reference_rate_data.xml",
        "report/report_invoice.xml",
        "report/report_reminder.xml",
        "data/mail_template_data.xml",
        "views/einvoice_views.xml",
        "views/inherited_views.xml",
    ],
    "demo": ["demo/heeros_link_einvoice_demo.xml"],
    "assets": {
        "web.assets_tests": ["heeros_link_einvoice/static/tests/tours/*.js"],
    },
    "post_init_hook": "_post_init_hook",
    "installable": True,
}
