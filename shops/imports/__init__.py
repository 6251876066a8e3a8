"""Loading data from outside: legacy sales (reading, batching, writing), the product
catalogue, and the demo."""
