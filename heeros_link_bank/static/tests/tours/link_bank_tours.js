/** @odoo-module **/

import { registry } from "@web/core/registry";

const tours = registry.category("web_tour.tours");

/** A camt.053 statement of client A's account (FI4819503000000010). */
const STATEMENT =
    '<?xml version="1.0" encoding="UTF-8"?><Document xmlns="urn:iso:std:iso:20022:tech:xsd:camt.053.001.02">' +
    "<BkToCstmrStmt><GrpHdr><MsgId>TOUR-IMPORT</MsgId><CreDtTm>2024-03-04T22:00:00+02:00</CreDtTm></GrpHdr>" +
    "<Stmt><Id>TOUR-IMPORT.1</Id><LglSeqNb>1</LglSeqNb><CreDtTm>2024-03-04T22:00:00+02:00</CreDtTm>" +
    "<Acct><Id><IBAN>FI4819503000000010</IBAN></Id><Ccy>EUR</Ccy></Acct>" +
    '<Bal><Tp><CdOrPrtry><Cd>OPBD</Cd></CdOrPrtry></Tp><Amt Ccy="EUR">0.00</Amt><CdtDbtInd>CRDT</CdtDbtInd>' +
    "<Dt><Dt>2024-03-04</Dt></Dt></Bal>" +
    '<Bal><Tp><CdOrPrtry><Cd>CLBD</Cd></CdOrPrtry></Tp><Amt Ccy="EUR">120.00</Amt><CdtDbtInd>CRDT</CdtDbtInd>' +
    "<Dt><Dt>2024-03-04</Dt></Dt></Bal>" +
    '<Ntry><Amt Ccy="EUR">120.00</Amt><CdtDbtInd>CRDT</CdtDbtInd><Sts>BOOK</Sts>' +
    "<BookgDt><Dt>2024-03-04</Dt></BookgDt><ValDt><Dt>2024-03-04</Dt></ValDt><AcctSvcrRef>TOUR-1</AcctSvcrRef>" +
    "<BkTxCd><Domn><Cd>PMNT</Cd><Fmly><Cd>RCDT</Cd><SubFmlyCd>DMCT</SubFmlyCd></Fmly></Domn>" +
    "<Prtry><Cd>710TILISIIRTO</Cd><Issr>FFFS</Issr></Prtry></BkTxCd>" +
    '<NtryDtls><TxDtls><AmtDtls><TxAmt><Amt Ccy="EUR">120.00</Amt></TxAmt></AmtDtls>' +
    "<RltdPties><Dbtr><Nm>Tour Maksaja Oy</Nm></Dbtr></RltdPties><RmtInf><Ustrd>Tour payment</Ustrd></RmtInf>" +
    "</TxDtls></NtryDtls></Ntry></Stmt></BkToCstmrStmt></Document>";

function linkMenu(xmlid, content) {
    return [
        {
            content: "Open the Link menu",
            trigger: ".o_navbar button[data-menu-xmlid='heeros_link_base.menu_heeros_link_root']",
            run: "click",
        },
        {
            content,
            trigger: `.dropdown-item[data-menu-xmlid='${xmlid}']`,
            run: "click",
        },
    ];
}

/** The bureau imports a client's statement keeping the dialog's default company. */
tours.add("heeros_link_import_tour", {
    steps: () => [
        ...linkMenu("heeros_link_base.menu_heeros_link_upload", "Import files"),
        {
            content: "Choose the statement file",
            trigger: ".modal .o_field_many2many_binary input[type=file]:not(:visible)",
            async run() {
                const transfer = new DataTransfer();
                transfer.items.add(new File([STATEMENT], "tour-statement.xml", { type: "application/xml" }));
                this.anchor.files = transfer.files;
                this.anchor.dispatchEvent(new Event("change", { bubbles: true }));
            },
        },
        {
            content: "The file is uploaded",
            trigger: ".modal .o_field_many2many_binary .o_attachment:contains('tour-statement.xml')",
        },
        {
            content: "Import",
            trigger: ".modal .modal-footer button[name=action_import]",
            run: "click",
        },
        {
            content: "The statement was processed under the client",
            trigger: ".o_form_view .o_statusbar_status button.o_arrow_button_current[data-value=processed]",
        },
        {
            trigger: ".o_form_view .o_field_widget[name=company_id]:contains('Asiakas A Oy')",
        },
        {
            content: "Open the statement it produced",
            trigger: ".o_form_view .oe_stat_button[name=action_view_bank_statements]",
            run: "click",
        },
        {
            trigger: ".o_breadcrumb .active:contains('Bank statements')",
        },
        {
            trigger: ".o_list_view .o_data_row:first .o_data_cell[name=name]",
            run: "click",
        },
        {
            content: "The Link's statement form: lines with partner and archive id, the balance check",
            trigger: ".o_form_view .o_field_widget[name=line_ids] .o_data_cell:contains('TOUR-1')",
        },
        {
            trigger: ".o_form_view .alert-success:contains('closing balance')",
        },
    ],
});

/** A message in error is fixed (the account's IBAN added) and reprocessed. */
tours.add("heeros_link_reprocess_tour", {
    steps: () => [
        {
            content: "The message is in error",
            trigger: ".o_form_view .o_statusbar_status button.o_arrow_button_current[data-value=error]",
        },
        {
            content: "Reprocess",
            trigger: ".o_form_view .o_statusbar_buttons button[name=action_reprocess]",
            run: "click",
        },
        {
            content: "A notification says what happened",
            trigger: ".o_notification:contains('1 processed')",
        },
        {
            content: "The form shows the new state",
            trigger: ".o_form_view .o_statusbar_status button.o_arrow_button_current[data-value=processed]",
        },
        {
            content: "The chatter keeps the summary",
            trigger: ".o-mail-Chatter .o-mail-Message:contains('Reprocessed by')",
        },
    ],
});

/** An unmatched reference payment is matched by hand with its invoice. */
tours.add("heeros_link_match_tour", {
    steps: () => [
        ...linkMenu("heeros_link_bank.menu_heeros_link_unmatched_references", "Unmatched reference payments"),
        {
            content: "The payment waits here, its code readable",
            trigger: ".o_list_view .o_data_row:contains('Tour Maksaja Oy')",
        },
        {
            content: "Match it",
            trigger: ".o_list_view .o_data_row:contains('Tour Maksaja Oy') button[name=action_heeros_link_match]",
            run: "click",
        },
        {
            content: "The open invoice of the same amount is proposed",
            trigger: ".modal .o_field_widget[name=invoice_ids] .o_data_row:contains('Tour Asiakas Oy')",
        },
        {
            trigger: ".modal .modal-footer button[name=action_match]",
            run: "click",
        },
        {
            content: "Matched",
            trigger: ".o_notification:contains('Payment matched')",
        },
        {
            content: "The payment has left the unmatched list",
            trigger: ".o_list_view:not(:has(.o_data_row:contains('Tour Maksaja Oy')))",
        },
    ],
});
