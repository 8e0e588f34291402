from . import (
    account_bank_statement,
    account_journal,
    account_move,
    bank_balance,
    bank_import,
    link_connection,
    link_message,
    payment_batch,
    payment_line,
    payment_salary,
    res_company,
)

# isort: split
from . import (
    demo,  # the demo's payment batch, sent and accepted
    payment_feedback,  # extends the batch and line models above: loaded after them
)
