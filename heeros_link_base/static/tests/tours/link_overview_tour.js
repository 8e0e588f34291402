/** @odoo-module **/

import { registry } from "@web/core/registry";

/**
 * A bureau operator opens the Link overview, sees every client's traffic
 * without ticking companies, and opens a client's error: the Link switches
 * to that client and shows the message with its readable error.
 */
registry.category("web_tour.tours").add("heeros_link_overview_tour", {
    steps: () => [
        {
            content: "The bureau's own card is there",
            trigger: ".o_heeros_link_company .o_heeros_link_company_name:contains('Tilitoimisto Testi Oy')",
        },
        {
            content: "A client's card counts its error although the client is not ticked",
            trigger:
                ".o_heeros_link_company:has(.o_heeros_link_company_name:contains('Asiakas A Oy')) .o_heeros_link_error_count",
        },
        {
            content: "Open the client's error",
            trigger:
                ".o_heeros_link_company:has(.o_heeros_link_company_name:contains('Asiakas A Oy')) .o_heeros_link_errors li:contains('junk.rar') .o_heeros_link_error",
            run: "click",
        },
        {
            content: "The message opens under the client, its error says what the file is",
            trigger: ".o_form_view .o_field_widget[name=error_text]:contains('a RAR archive')",
        },
        {
            content: "Inbound messages show inbound states only",
            trigger: ".o_form_view .o_statusbar_status:not(:has(button[data-value=sent])) button[data-value=processed]",
        },
        {
            content: "The client is now an active company",
            trigger: ".o_form_view .o_field_widget[name=company_id]:contains('Asiakas A Oy')",
        },
    ],
});
