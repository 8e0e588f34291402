{
    "name": "Heeros Link: Electronic Archive",
    "summary": "Immutable archive of every document that passes the Link, with retention and integrity verification",
    "version": "18.0.2.1.0",
    "category": "Accounting/Accounting",
    "author": "Heeros Link for Odoo contributors",
    "website": "https://github.com/heeros-link/heeros-link-odoo",
    "license": "LGPL-3",
    "depends": ["heeros_link_base"],
    "data": [
        "security/heeros_link_archive_security.xml",
        "security/ir.model.access.csv",
        "data/heeros_link_archive_data.xml",
        "views/heeros_link_archive_views.xml",
    ],
    "assets": {
        "web.assets_tests": [
            "heeros_link_archive/static/tests/tours/**/*",
        ],
    },
    "installable": True,
}
