"""Demo data for ``make run``: stores, a catalogue, terminals and a year of sales made through
the real checkout (``seed``)."""
