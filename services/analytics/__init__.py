"""analytics: loads every event into an analytics table (SQLite by default) in batches, and
answers signups and orders per hour and revenue from it.

    ANALYTICS_DB=/tmp/analytics.sqlite3 conveyor run analytics
"""

from analytics.service import NAME, build_service, main
from analytics.store import AnalyticsStore, Totals, fact_of

__all__ = ["NAME", "AnalyticsStore", "Totals", "build_service", "fact_of", "main"]
