"""The HTTP gateway: POST /signup and /orders become events, through a transactional outbox."""

from gateway.main import main

__all__ = ["main"]
