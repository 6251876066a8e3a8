"""Loading data from outside: legacy sales (``reading`` a CSV, ``batching`` it, ``writing`` each
batch under the account locks) and the product catalogue (``products``)."""
