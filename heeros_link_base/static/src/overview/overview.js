/** @odoo-module **/

import { Component, onWillStart, useState } from "@odoo/owl";
import { browser } from "@web/core/browser/browser";
import { registry } from "@web/core/registry";
import { useService } from "@web/core/utils/hooks";

/** An item opened after the page reloads to switch companies. */
const PENDING_KEY = "heeros_link_overview_pending";

export class LinkOverview extends Component {
    static template = "heeros_link_base.LinkOverview";
    static props = ["*"];

    setup() {
        this.orm = useService("orm");
        this.action = useService("action");
        this.company = useService("company");
        this.state = useState({ data: null });
        onWillStart(async () => {
            const pending = browser.sessionStorage.getItem(PENDING_KEY);
            if (pending) {
                browser.sessionStorage.removeItem(PENDING_KEY);
                const { action, companyIds } = JSON.parse(pending);
                if (companyIds.every((id) => this.company.activeCompanyIds.includes(id))) {
                    // the switch is done: open what was asked for
                    this.action.doAction(action);
                }
            }
            await this.load();
        });
    }

    async load() {
        this.state.data = await this.orm.call("heeros.link.overview", "link_overview_data", []);
    }

    /**
     * Open what an item points at; when it belongs to a company that is not
     * active, switch to that company first (the page reloads), then open it.
     */
    async open(target) {
        const { action, company_ids: companyIds } = await this.orm.call(
            "heeros.link.overview",
            "link_overview_open",
            [target]
        );
        const active = this.company.activeCompanyIds;
        if (companyIds.every((id) => active.includes(id))) {
            return this.action.doAction(action);
        }
        browser.sessionStorage.setItem(PENDING_KEY, JSON.stringify({ action, companyIds }));
        const ids = [...companyIds, ...active.filter((id) => !companyIds.includes(id))];
        await this.company.setCompanies(ids, false);
    }

    async refresh() {
        await this.load();
    }
}

registry.category("actions").add("heeros_link_overview", LinkOverview);
