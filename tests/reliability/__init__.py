"""Reliability and security checks: fault soak, several processes, bad input, secrets, webhooks."""
