"""``odoo-bin --addons-path=PATHS link import|status [Odoo options] ...``

Odoo discovers addon commands only when ``--addons-path`` is the first
argument and the command the second. Every option that ``odoo-bin`` itself
accepts (``-c``, ``-d``, ``--db_host``, ``--db_user``, ``--data-dir``,
``--log-level``, ...) may follow; ``-d`` may be left out when the
configuration file names one database (``db_name``).

    link import [--company ID] [--no-process] FILE... [Odoo options]
        Store each file as an inbound Link message, process it and print one
        JSON object per file (file, message_id, type, company_id, state,
        error, records). The company defaults to the administrator's
        (``admin``, the user created with the database). Exit code 0 when
        every file reached ``processed`` or ``duplicate`` (with
        ``--no-process``: when every file was stored), 1 otherwise, 2 for a
        usage error.

    link status [Odoo options]
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
STORED_STATES = OK_STATES | {"received"}


def _parser():
    parser = argparse.ArgumentParser(
        prog=f"{Path(sys.argv[0]).name} link",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="Any other option is passed on to Odoo's own option parser.",
    )
    sub = parser.add_subparsers(dest="action", required=True)
    imp = sub.add_parser("import", help="import files as inbound messages")
    imp.add_argument("files", nargs="+", metavar="FILE")
    imp.add_argument("--company", type=int, help="company id (default: the administrator's current company)")
    imp.add_argument("--no-process", action="store_true", help="store only; process later")
    sub.add_parser("status", help="message counts as JSON")
    return parser


def _split_odoo_options(args):
    """Separate Odoo's own options (``-c CONF``, ``--db_host=H``, ...) from
    ours, asking Odoo's option parser which of them take a value, so that a
    value is never mistaken for a file name."""
    ours, odoo_args = [], []
    args = list(args)
    while args:
        arg = args.pop(0)
        name = arg.split("=", 1)[0]
        option = config.parser.get_option(name) if arg.startswith("-") and len(arg) > 1 else None
        if option is None and arg.startswith("-") and not arg.startswith("--") and len(arg) > 2:
            option = config.parser.get_option(arg[:2])  # -dDB
            name = arg[:2]
        if option is None or name in ("-h", "--help"):
            ours.append(arg)
            continue
        odoo_args.append(arg)
        if option.takes_value() and arg == name and args:
            odoo_args.append(args.pop(0))
    if not any(a.startswith(("--log-level", "--log-handler")) for a in odoo_args):
        odoo_args.append("--log-level=warn")
    return ours, odoo_args


class Link(Command):
    """Heeros Link: import files into the Link, show message counts"""

    def run(self, args):
        ours, odoo_args = _split_odoo_options(args)
        opts = _parser().parse_args(ours)
        config.parse_config(odoo_args, setup_logging=True)
        # Logs go to stderr (or the configured log file); stdout carries only JSON.
        logging.getLogger().handlers[:] = [
            h for h in logging.getLogger().handlers if getattr(h, "stream", None) is not sys.stdout
        ]
        databases = [name for name in (config["db_name"] or "").split(",") if name.strip()]
        if len(databases) != 1:
            print(json.dumps({"error": "name one database: -d DATABASE, or db_name in the configuration file"}))
            sys.exit(2)
        database = databases[0].strip()
        registry = Registry(database)
        with registry.cursor() as cr:
            env = odoo.api.Environment(cr, odoo.SUPERUSER_ID, {})
            if "heeros.link.message" not in env:
                print(json.dumps({"error": f"Heeros Link is not installed in {database}"}))
                sys.exit(2)
            if opts.action == "status":
                print(json.dumps(env["heeros.link.message"]._link_status(), indent=None))
                return
            sys.exit(self._import(env, opts))

    @staticmethod
    def _default_company(env):
        """The administrator's current company, as the help says; the
        superuser's when the database has no ``admin`` user any more."""
        admin = env.ref("base.user_admin", raise_if_not_found=False)
        return (admin if admin and admin.active else env.user).company_id

    def _import(self, env, opts):
        company = env["res.company"].browse(opts.company) if opts.company else self._default_company(env)
        if not company.exists():
            print(json.dumps({"error": f"no company with id {opts.company}"}))
            return 2
        env = env(context=dict(env.context, allowed_company_ids=[company.id]))
        ok = True
        for path in opts.files:
            try:
                data = Path(path).read_bytes()
            except OSError as exc:
                print(
                    json.dumps(
                        {
                            "file": path,
                            "message_id": None,
                            "type": None,
                            "company_id": company.id,
                            "state": "error",
                            "error": f"cannot read {path}: {exc.strerror}",
                            "records": [],
                        }
                    )
                )
                ok = False
                continue
            message = env["heeros.link.upload"]._link_import(
                [(Path(path).name, data)], company, process=not opts.no_process
            )
            env.cr.commit()
            for result in message._link_result():
                result["file"] = path
                print(json.dumps(result), flush=True)
                ok = ok and result["state"] in (STORED_STATES if opts.no_process else OK_STATES)
        return 0 if ok else 1
