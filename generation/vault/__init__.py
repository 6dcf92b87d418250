"""The encrypted, consent-gated subject vault."""

from .store import Vault, create_vault, delete_subject, list_subjects, open_vault

__all__ = ["Vault", "create_vault", "delete_subject", "list_subjects", "open_vault"]
