"""Fetching from IMAP: the one seam over imapclient, and the poller that stores new messages raw."""
