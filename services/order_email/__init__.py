"""order-email: e-mails the customer when an order is paid, shipped or cancelled.

Order events carry no e-mail address, so the service keeps a small directory (users from
`UserSignedUp`, owners from `OrderPlaced`). An order whose customer is not known yet is retried:
the signup travels on another topic and may arrive a little later.

    SMTP_HOST=127.0.0.1 SMTP_PORT=8025 conveyor run order-email
"""

from order_email.directory import Directory, RecipientUnknownError
from order_email.service import NAME, build_service, mail_for, main

__all__ = ["NAME", "Directory", "RecipientUnknownError", "build_service", "mail_for", "main"]
