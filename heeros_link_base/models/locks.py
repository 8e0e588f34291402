"""Advisory lock spaces of the Link's workers."""

#: PostgreSQL advisory lock spaces (first key of the two-key form). A
#: session-level lock is held by the worker that sends a message, processes a
#: message or fetches a connection; PostgreSQL releases it when the worker's
#: connection ends, so a lock that can be taken means nobody is at work.
LOCK_SEND = 0x484C0001
LOCK_PROCESS = 0x484C0002
LOCK_DIGEST = 0x484C0003
LOCK_FETCH = 0x484C0004
