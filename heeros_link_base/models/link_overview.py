"""The Link overview: every allowed company's traffic on one screen.

The screen (an OWL client action, ``heeros_link_overview``) asks
:meth:`HeerosLinkOverview.link_overview_data` for plain data and
:meth:`HeerosLinkOverview.link_overview_open` for the action behind an item.
The data covers every company the user may access, whichever companies are
ticked in the switcher, and is read as the user: record rules still decide
what each person sees. Addons add their sections with
``_link_overview_sections`` (``super()`` and append).
"""

from odoo import _, api, models
from odoo.exceptions import AccessError

from .link_message import COMMON_STATES, IN_STATES, OUT_STATES

#: Message states that need a person.
ERROR_STATES = ("error", "rejected", "to_check")
#: How many recent errors a company's card lists.
ERRORS_SHOWN = 5


class HeerosLinkOverview(models.AbstractModel):
    _name = "heeros.link.overview"
    _description = "Link overview"

    @api.model
    def _link_overview_check_access(self):
        if not self.env.user.has_group("heeros_link_base.group_link_user"):
            raise AccessError(_("The Link overview is for Link users."))

    @api.model
    def _link_overview_companies(self):
        """The companies shown: every company the user may access."""
        return self.env.user.company_ids.sorted(lambda c: (c.sequence, c.name))

    @api.model
    def _link_overview_env(self, companies):
        """This model as the user, with all ``companies`` allowed (the record
        rules then filter on them, as for a user who ticked them all)."""
        return self.with_context(allowed_company_ids=companies.ids)

    @api.model
    def link_overview_data(self):
        """Everything the overview shows, as plain data."""
        self._link_overview_check_access()
        companies = self._link_overview_companies()
        overview = self._link_overview_env(companies)
        return {
            "companies": [overview._link_overview_company(company) for company in companies],
            "multi_company": len(companies) > 1,
            "active_company_ids": self.env.companies.ids,
        }

    @api.model
    def _link_overview_company(self, company):
        """One company's card: counts by state and type, recent errors, and
        the sections addons add."""
        Message = self.env["heeros.link.message"]
        domain = [("company_id", "=", company.id)]
        state_labels = dict(OUT_STATES + IN_STATES + COMMON_STATES)
        states = [
            {
                "state": state,
                "label": state_labels.get(state, state),
                "count": count,
                "danger": state in ERROR_STATES,
                "open": {"kind": "messages", "company_id": company.id, "state": state},
            }
            for state, count in Message._read_group(domain, ["state"], ["__count"], order="state")
        ]
        type_labels = dict(Message._fields["document_type"]._description_selection(self.env))
        types = [
            {
                "type": doc_type or "unknown",
                "label": type_labels.get(doc_type, doc_type) or _("Unrecognised"),
                "count": count,
                "open": {"kind": "messages", "company_id": company.id, "document_type": doc_type or "unknown"},
            }
            for doc_type, count in Message._read_group(domain, ["document_type"], ["__count"])
        ]
        types.sort(key=lambda row: (-row["count"], row["label"]))
        error_domain = domain + [("state", "in", ERROR_STATES)]
        errors = Message.search(error_domain, limit=ERRORS_SHOWN, order="id desc")
        return {
            "id": company.id,
            "name": company.name,
            "total": sum(row["count"] for row in states),
            "states": states,
            "types": types,
            "error_count": Message.search_count(error_domain),
            "errors": [
                {
                    "id": message.id,
                    "name": message.name,
                    "file_name": message.file_name or "",
                    "error": (message.error_text or "").splitlines()[0][:240] if message.error_text else "",
                    "open": {
                        "kind": "record",
                        "company_id": company.id,
                        "model": "heeros.link.message",
                        "res_id": message.id,
                    },
                }
                for message in errors
            ],
            "errors_open": {"kind": "messages", "company_id": company.id, "errors": True},
            "sections": self._link_overview_sections(company),
        }

    @api.model
    def _link_overview_sections(self, company):
        """Further blocks of a company's card, each
        ``{"key", "title", "empty", "items": [{"label", "detail", "danger", "open"}]}``.
        The core adds none."""
        return []

    # ------------------------------------------------------------------
    # opening an item
    # ------------------------------------------------------------------
    @api.model
    def link_overview_open(self, target):
        """``{"action": ..., "company_ids": [...]}``: the window action behind
        an overview item and the companies that must be active to see it
        (the screen switches to them). ``target`` comes from the browser:
        it chooses only what is opened, the record rules decide what is
        shown, and its company must be one the user may access."""
        self._link_overview_check_access()
        company = self.env["res.company"].browse(int(target.get("company_id") or 0))
        if company not in self.env.user.company_ids:
            raise AccessError(_("You have no access to that company."))
        kind = target.get("kind")
        overview = self._link_overview_env(company)
        if kind == "record":
            action = overview._link_overview_record_action(company, target)
        else:
            opener = getattr(overview, f"_link_overview_open_{kind}", None) if str(kind).isidentifier() else None
            if opener is None:
                raise AccessError(_("The overview cannot open %s.", kind))
            action = opener(company, target)
        return {"action": action, "company_ids": company.ids}

    @api.model
    def _link_overview_record_action(self, company, target):
        model = target.get("model")
        if model not in self._link_overview_record_models():
            raise AccessError(_("The overview cannot open %s.", model))
        record = self.env[model].browse(int(target.get("res_id") or 0)).exists()
        if not record:
            raise AccessError(_("The record no longer exists."))
        record.check_access("read")
        return {
            "type": "ir.actions.act_window",
            "res_model": model,
            "res_id": record.id,
            "views": [(False, "form")],
            "target": "current",
        }

    @api.model
    def _link_overview_record_models(self):
        """Models whose records the overview's items open."""
        return {"heeros.link.message"}

    @api.model
    def _link_overview_open_messages(self, company, target):
        action = self.env["ir.actions.act_window"]._for_xml_id("heeros_link_base.heeros_link_message_action")
        domain = [("company_id", "=", company.id)]
        if target.get("state"):
            domain.append(("state", "=", str(target["state"])))
        if target.get("document_type"):
            doc_type = str(target["document_type"])
            domain.append(("document_type", "in", (doc_type, False) if doc_type == "unknown" else (doc_type,)))
        if target.get("errors"):
            domain.append(("state", "in", ERROR_STATES))
        action.update(
            {
                "domain": domain,
                "context": {},
                "name": _("Link messages of %s", company.name),
                "views": [(False, "list"), (False, "form")],
            }
        )
        return action
