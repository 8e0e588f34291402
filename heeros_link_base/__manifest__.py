{
    "name": "Heeros Link",
    "summary": "The Link core: connections to banks and operators, the message log and its "
    "state machine, channels (local folder, SFTP, Finnish bank Web Services, Maventa and Apix "
    "operator APIs), schedulers, multi-company security, CLI",
    "version": "18.0.1.0.0",
    "category": "Accounting/Accounting",
    "author": "Heeros Link for Odoo contributors",
    "website": "https://github.com/heeros-link/heeros-link-odoo",
    "license": "LGPL-3",
    "depends": ["account", "mail", "web"],
    "external_dependencies": {"python": ["lxml", "paramiko", "cryptography", "xmlschema", "requests"]},
    "data": [
        "security/heeros_link_security.xml",
        "security/ir.model.access.csv",
        "data/heeros_link_data.xml",
        "data/bank_ws_data.xml",
        "data/heeros_link_operator_data.xml",
        "views/heeros_link_overview_views.xml",
        "views/heeros_link_message_views.xml",
        "views/heeros_link_connection_views.xml",
        "views/heeros_link_upload_views.xml",
        "views/heeros_link_webhook_views.xml",
        "views/res_config_settings_views.xml",
        "views/res_users_views.xml",
        "views/heeros_link_menus.xml",
        "views/heeros_link_bank_ws_views.xml",
    ],
    "assets": {
        "web.assets_backend": [
            "heeros_link_base/static/src/**/*",
        ],
        "web.assets_tests": [
            "heeros_link_base/static/tests/tours/**/*",
        ],
    },
    "installable": True,
    "application": False,
}
