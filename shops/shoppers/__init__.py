"""What a shopper sees: ``lookup`` (this year's quota, purchases and open trips, for a document
and a name) and ``pages`` (the home page and the quota page with its captcha)."""
