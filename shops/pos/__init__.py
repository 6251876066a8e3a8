"""The point of sale: what a till does, and the rules it does it under.

- ``checkout``: judge a basket (a quote) and commit a sale exactly once — the only two ways a
  sale is judged and written.
- ``returns``: goods and quota given back — a return of some lines, a void of the whole sale.
- ``pickup``: the goods handed over.
- ``departures``: a departure recorded, the shopper's trip closed.
- ``deadline``: the 30-day departure deadline of immediate and guarantee pickups (the nightly
  sweep that bans, and the lifting of bans a late departure shows were wrong).
- ``trip_usage``: what a shopper's trips already hold, recounted from the sales.
- ``search``: the till's look-ups — products, and the store's own sales.
- ``answers``: the bodies the till is answered with; ``errors``: its refusals.
- ``idempotency``: one answer per (terminal, Idempotency-Key), replayed byte for byte.
- ``terminals``: a till's credentials.
"""
