"""The till: the cashier screen at ``/pos/``, a page on the public API (its sign-in exchanges a
terminal's key for a session cookie the API takes in place of the key)."""
