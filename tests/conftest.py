"""Shared pytest set-up for the Heeros Link suite.

The suite runs inside real Odoo 18 on PostgreSQL through pytest-odoo
(``bash .ci/link test``). Pure format tests need no database, and can also be
run alone with ``-p no:odoo``; for them the repository is put on Odoo's addons
namespace so ``odoo.addons.heeros_link_*`` imports resolve.
"""

import os
from pathlib import Path

import odoo.addons

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in odoo.addons.__path__:
    odoo.addons.__path__.append(str(REPO))
