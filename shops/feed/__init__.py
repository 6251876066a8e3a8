"""The event feed: every sale and what follows it, told to customs and integrators.

A transactional outbox (``events``: written with the change), delivered by Celery workers
(``delivery``: signed by the Standard Webhooks specification, retried, at least once), with the
customs channel's format and sealing in one module (``customs``), the signatures (``signing``),
the endpoints (``endpoints``) and the checks that nothing was lost (``reconcile``).
"""
