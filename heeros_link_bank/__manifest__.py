{
    "name": "Heeros Link: Bank Traffic",
    "summary": "ISO 20022 camt.052/053/054, pain.001/002, TITO and KTL for Finnish banks: "
    "statements, reference payments with automatic reconciliation, balances",
    "version": "18.0.1.1.0",
    "category": "Accounting/Accounting",
    "author": "Heeros Link for Odoo contributors",
    "website": "https://github.com/heeros-link/heeros-link-odoo",
    "license": "LGPL-3",
    "depends": ["heeros_link_base", "l10n_fi"],
    "external_dependencies": {"python": ["lxml", "python-stdnum"]},
    "data": [
        "security/heeros_link_bank_groups.xml",
        "security/ir.model.access.csv",
        "security/heeros_link_bank_security.xml",
        "data/heeros_link_bank_data.xml",
        "data/payment_batch_data.xml",
        "data/payment_feedback_data.xml",
        "views/heeros_link_bank_message_views.xml",
        "views/heeros_link_bank_balance_views.xml",
        "views/heeros_link_bank_statement_views.xml",
        "views/payment_batch_views.xml",
        "views/payment_feedback_views.xml",
        "views/heeros_link_match_views.xml",
        "views/heeros_link_bank_menus.xml",
    ],
    "demo": ["demo/heeros_link_demo.xml"],
    "assets": {
        "web.assets_tests": [
            "heeros_link_bank/static/tests/tours/**/*",
        ],
    },
    "installable": True,
}
