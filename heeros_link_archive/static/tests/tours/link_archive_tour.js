/** @odoo-module **/

import { registry } from "@web/core/registry";

/** The archive's Verify and Export work without selecting rows. */
registry.category("web_tour.tours").add("heeros_link_archive_tour", {
    steps: () => [
        {
            content: "The archived document is listed",
            trigger: ".o_list_view .o_data_row",
        },
        {
            content: "Verify without selecting anything",
            trigger: ".o_control_panel button[name=action_verify]",
            run: "click",
        },
        {
            content: "The result is shown and stays",
            trigger: ".o_notification:contains('all intact')",
        },
        {
            content: "Export without selecting anything: the export dialog opens",
            trigger: ".o_control_panel button[name=action_export]",
            run: "click",
        },
        {
            trigger: ".modal .o_field_widget[name=company_id]",
        },
        {
            trigger: ".modal .modal-footer button[special=cancel]",
            run: "click",
        },
        {
            content: "The verification run is in the list of runs, without reloading",
            trigger: ".o_navbar button[data-menu-xmlid='heeros_link_base.menu_heeros_link_root']",
            run: "click",
        },
        {
            trigger: ".dropdown-item[data-menu-xmlid='heeros_link_archive.menu_heeros_link_archive_verifications']",
            run: "click",
        },
        {
            trigger: ".o_list_view .o_data_row .o_field_widget[name=result]:contains('Intact')",
        },
        {
            content: "Verify again from the list of runs: the new run appears at once",
            trigger: ".o_control_panel button[name=action_heeros_link_verify_now]",
            run: "click",
        },
        {
            trigger: ".o_list_view:has(.o_data_row:nth-child(2)) .o_data_row:first .o_field_widget[name=result]:contains('Intact')",
        },
    ],
});
