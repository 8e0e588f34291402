from . import account_bank_statement
from . import account_journal
from . import bank_balance
from . import bank_import
from . import link_connection
from . import link_message
