"""crm-sync: creates a CRM contact for each new user through the CRM's HTTP API, with the user id
as idempotency key (a retried call never creates a second contact), rate-limited.

    CRM_URL=http://127.0.0.1:8101 conveyor run crm-sync
"""

from crm_sync.service import NAME, build_service, contact_of, main

__all__ = ["NAME", "build_service", "contact_of", "main"]
