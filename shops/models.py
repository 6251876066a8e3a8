"""Stores, terminals, products and sales (built in the point-of-sale issue)."""
