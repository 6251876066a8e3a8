"""Reporting: the daily ``rollups``, the ``stats`` over them, the ``dashboard`` page, and the
``audit`` (every figure rebuilt from the sales and compared)."""
