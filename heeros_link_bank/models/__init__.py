from . import account_bank_statement, account_journal, bank_balance, bank_import, link_connection, link_message
