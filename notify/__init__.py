"""What goes out: the replies (outbox), the digest email and its once-per-date sending, rendering, SMTP."""
