/** @odoo-module */

import { registry } from "@web/core/registry";

// From a posted customer invoice: Send opens Odoo's Send & Print dialog with
// "by Heeros Link" already ticked (the customer's e-invoice address asks for
// Finvoice), no warning about missing addresses; sending queues the e-invoice
// as a Link message, shown on the invoice and in the Link's message list.
registry.category("web_tour.tours").add("heeros_link_send_einvoice", {
    steps: () => [
        {
            content: "Open the Send & Print dialog",
            trigger: ".o_form_view .o_statusbar_buttons button[name='action_invoice_sent']",
            run: "click",
        },
        {
            content: "'by Heeros Link' is ticked",
            trigger: ".modal .o-checkbox:contains('by Heeros Link') input:checked",
        },
        {
            content: "No warning about customers without an e-invoice address",
            trigger: ".modal:not(:has(#alerts:contains('e-invoice address')))",
        },
        {
            content: "Send",
            trigger: ".modal footer button[name='action_send_and_print']",
            run: "click",
        },
        {
            content: "The invoice shows its queued e-invoice",
            trigger: "button[name='action_heeros_link_view_messages']:contains('Queued')",
            run: "click",
        },
        {
            content: "The Link's message list shows the queued Finvoice",
            trigger: ".o_list_view .o_data_row:contains('Finvoice e-invoice'):contains('Queued')",
        },
    ],
});
