"""Operators: the companies that run the stores, and whose people see only their own.

``scope``: what a user may see (their operator's stores, or every store for the platform's
people); ``services``: adding operators and giving staff users theirs.
"""
