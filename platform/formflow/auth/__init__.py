"""Accounts, roles, jurisdiction and identity providers."""
