from . import (
    account_bank_statement,
    account_journal,
    account_move,
    bank_balance,
    bank_import,
    link_connection,
    link_message,
    link_overview,
    link_ui,
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

# isort: split
from . import link_api  # the API's values of the models above and their webhook events
