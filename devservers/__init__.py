"""Real servers and realistic mail for tests and the demo: a throwaway Dovecot, an SMTP sink, samples."""
