"""Reporting: the daily rollups, the statistics over them, the dashboard, and the books."""
