"""Shared pytest set-up for the Heeros Link suite.

The suite runs inside real Odoo 18 on PostgreSQL through pytest-odoo
(``bash .ci/link test``). Pure format tests need no database, and can also be
run alone with ``-p no:odoo``; for them the repository is put on Odoo's addons
namespace so ``odoo.addons.heeros_link_*`` imports resolve.
"""

from pathlib import Path

import odoo.addons

REPO = Path(__file__).resolve().parent.parent
_ODOO_ROOT = Path(next(iter(odoo.addons.__path__))).resolve().parent.parent  # the folder of odoo-bin
for _folder in (REPO, _ODOO_ROOT / "addons"):
    # our addons, and Odoo's own (their models are imported by ours even
    # when no database is used)
    if _folder.is_dir() and str(_folder) not in odoo.addons.__path__:
        odoo.addons.__path__.append(str(_folder))

from odoo.tests import common as odoo_test_common  # noqa: E402

_ADDON_OF_FOLDER = {
    "base": "heeros_link_base",
    "bank": "heeros_link_bank",
    "einvoice": "heeros_link_einvoice",
    "archive": "heeros_link_archive",
}
_original_metacase_init = odoo_test_common.MetaCase.__init__


def _metacase_init(cls, name, bases, attrs):
    """Odoo tags test classes only inside ``odoo.addons.*``; ours live in the
    top-level ``tests`` package, so give them the same attributes, naming the
    addon each folder tests."""
    _original_metacase_init(cls, name, bases, attrs)
    if not cls.__module__.startswith("odoo.addons.") and getattr(cls, "test_tags", None) is None:
        parts = cls.__module__.split(".")
        cls.test_tags = {"standard", "at_install"}
        cls.test_module = _ADDON_OF_FOLDER.get(parts[1] if len(parts) > 1 else "", "heeros_link_base")
        cls.test_class = name
        cls.test_sequence = 0


odoo_test_common.MetaCase.__init__ = _metacase_init


def pytest_configure(config):
    """The HttpCase tests talk to Odoo's real HTTP server, which pytest-odoo
    starts in the test process when ``--odoo-http`` is given: always give it
    (without the plugin, ``-p no:odoo``, there is no such option)."""
    if hasattr(config.option, "odoo_http"):
        config.option.odoo_http = True
        # Starting that server also caps the process's address space at
        # Odoo's limit_memory_hard, meant for a worker serving requests, not
        # for a test run that validates large documents: leave it uncapped.
        import odoo.tools

        odoo.tools.config["limit_memory_hard"] = 0
