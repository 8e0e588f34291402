"""``odoo-bin --addons-path=PATHS link import|status ...``

Odoo discovers addon commands only when ``--addons-path`` is the first
argument and the command the second.

    link import -c CONF -d DB [--company ID] [--no-process] FILE...
        Store each file as an inbound Link message, process it and print one
        JSON object per file (file, message_id, type, company_id, state,
        error, records). Exit code 0 when every file reached ``processed``
        or ``duplicate``, 1 otherwise.

    link status -c CONF -d DB
        Print message counts per company, document type, direction and
        state as a JSON list.
"""

# stdout carries the JSON results: that is the interface.
# pylint: disable=print-used
import argparse
import json
import logging
import sys
from pathlib import Path

import odoo
from odoo.cli import Command
from odoo.modules.registry import Registry
from odoo.tools import config

OK_STATES = {"processed", "duplicate"}


class Link(Command):
    """Heeros Link: import files into the Link, show message counts"""

    def run(self, args):
        parser = argparse.ArgumentParser(prog=f"{Path(sys.argv[0]).name} link", description=__doc__,
                                         formatter_class=argparse.RawDescriptionHelpFormatter)
        sub = parser.add_subparsers(dest="action", required=True)
        imp = sub.add_parser("import", help="import files as inbound messages")
        imp.add_argument("files", nargs="+", metavar="FILE")
        imp.add_argument("--company", type=int, help="company id (default: the admin's company)")
        imp.add_argument("--no-process", action="store_true", help="store only; process later")
        sub.add_parser("status", help="message counts as JSON")
        for p in (imp, sub.choices["status"]):
            p.add_argument("-c", "--config", required=True)
            p.add_argument("-d", "--database", required=True)
        opts = parser.parse_args(args)

        config.parse_config(["-c", opts.config, "-d", opts.database, "--log-level=warn"],
                            setup_logging=True)
        # Logs go to stderr (or the configured log file); stdout carries only JSON.
        logging.getLogger().handlers[:] = [h for h in logging.getLogger().handlers
                                           if getattr(h, "stream", None) is not sys.stdout]
        registry = Registry(opts.database)
        with registry.cursor() as cr:
            env = odoo.api.Environment(cr, odoo.SUPERUSER_ID, {})
            if "heeros.link.message" not in env:
                print(json.dumps({"error": f"Heeros Link is not installed in {opts.database}"}))
                sys.exit(2)
            if opts.action == "status":
                print(json.dumps(env["heeros.link.message"]._link_status(), indent=None))
                return
            sys.exit(self._import(env, opts))

    def _import(self, env, opts):
        company = env["res.company"].browse(opts.company) if opts.company else env.user.company_id
        if not company.exists():
            print(json.dumps({"error": f"no company with id {opts.company}"}))
            return 2
        env = env(context=dict(env.context, allowed_company_ids=[company.id]))
        ok = True
        for path in opts.files:
            try:
                data = Path(path).read_bytes()
            except OSError as exc:
                print(json.dumps({"file": path, "message_id": None, "type": None,
                                  "company_id": company.id, "state": "error",
                                  "error": f"cannot read {path}: {exc.strerror}", "records": []}))
                ok = False
                continue
            message = env["heeros.link.upload"]._link_import(
                [(Path(path).name, data)], company, process=not opts.no_process)
            env.cr.commit()
            for result in message._link_result():
                result["file"] = path
                print(json.dumps(result), flush=True)
                ok = ok and result["state"] in OK_STATES
        return 0 if ok else 1
