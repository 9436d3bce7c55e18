"""Reporting: read-only figures of the campaign, activity counts, the digest's content, the xlsx export."""
