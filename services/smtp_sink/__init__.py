"""An SMTP server on loopback that keeps every message it receives as one `.eml` file in a
directory, so the demo and the tests can count and read what the e-mail services sent."""

from smtp_sink.main import main

__all__ = ["main"]
