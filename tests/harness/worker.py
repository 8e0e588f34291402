"""A Link worker in its own process, for the crash and concurrency tests.

    python worker.py CONFIG DATABASE setup IBAN...
    python worker.py CONFIG DATABASE intake FILE...
    python worker.py CONFIG DATABASE setup-folder ROOT OUTBOUND
    python worker.py CONFIG DATABASE process|send|fetch|recover|cycle [ROUNDS]

``setup`` gives the main company (in EUR) a bank journal per IBAN and prints the
company id; ``intake`` stores files as received messages; the others run the
Link's own scheduler methods, as an Odoo cron worker would (``cycle``: fetch
from every connection, process, recover and send). ``setup-folder`` adds a
local-folder connection on ROOT and queues OUTBOUND messages on it.
"""

# stdout carries the results the tests read.
# pylint: disable=print-used
import json
import sys
from pathlib import Path


def cycle(env):
    env["heeros.link.connection"].search([("direction", "in", ("in", "both"))])._link_fetch()
    env["heeros.link.message"]._cron_process()
    env["heeros.link.message"]._cron_send()


def main(argv):
    conf, db, action, *rest = argv
    import odoo
    from odoo.tools import config

    config.parse_config(["-c", conf, "-d", db, "--log-level=warn"], setup_logging=True)
    registry = odoo.modules.registry.Registry(db)
    with registry.cursor() as cr:
        env = odoo.api.Environment(cr, odoo.SUPERUSER_ID, {})
        Message = env["heeros.link.message"]
        if action == "setup":
            company = env.user.company_id
            company.currency_id = env.ref("base.EUR")
            journal = env["account.journal"].search([("type", "=", "bank"), ("company_id", "=", company.id)],
                                                    limit=1)
            journal.bank_acc_number = rest[0]
            for number, iban in enumerate(rest[1:], start=2):
                env["account.journal"].create({"name": f"Bank {number}", "code": f"BNK{number}",
                                               "type": "bank", "company_id": company.id,
                                               "bank_acc_number": iban})
            cr.commit()
            print(json.dumps({"company_id": company.id, "journal_id": journal.id}))
        elif action == "setup-folder":
            company = env.user.company_id
            connection = env["heeros.link.connection"].create({
                "name": "Crash test folder", "protocol": "local", "local_root": rest[0],
                "direction": "both", "company_id": company.id, "company_ids": [(6, 0, company.ids)],
                "max_attempts": 50, "retry_delay": 0})
            for number in range(int(rest[1])):
                Message._link_queue("test.out", f"out-{number:04d}.xml", f"<out n='{number}'/>".encode(),
                                    company, connection=connection)
            cr.commit()
            print(json.dumps({"connection_id": connection.id}))
        elif action == "intake":
            messages = Message._link_intake([(Path(p).name, Path(p).read_bytes()) for p in rest],
                                            company=env.user.company_id, process=False)
            cr.commit()
            print(json.dumps(messages.ids))
        else:
            method = {"process": Message._cron_process, "send": Message._cron_send,
                      "fetch": env["heeros.link.connection"]._cron_fetch,
                      "recover": Message._link_recover_sending,
                      "cycle": lambda: cycle(env)}[action]
            for _round in range(int(rest[0]) if rest else 1):
                method()
                cr.commit()


if __name__ == "__main__":
    main(sys.argv[1:])
