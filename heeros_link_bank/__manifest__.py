{
    "name": "Heeros Link: Bank Traffic",
    "summary": "ISO 20022 camt.052/053/054, pain.001/002, TITO and KTL for Finnish banks: "
    "statements, reference payments with automatic reconciliation, balances",
    "version": "18.0.1.0.0",
    "category": "Accounting/Accounting",
    "author": "Heeros Link for Odoo contributors",
    "website": "https://github.com/heeros-link/heeros-link-odoo",
    "license": "LGPL-3",
    "depends": ["heeros_link_base", "l10n_fi"],
    "external_dependencies": {"python": ["lxml"]},
    "data": [],
    "demo": ["demo/heeros_link_demo.xml"],
    "installable": True,
}
