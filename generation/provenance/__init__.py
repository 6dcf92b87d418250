"""Provenance: every exported picture and sound is labelled, watermarked, signed and logged.

`Exporter` is the one export path (see exporter.py); `verify_file` checks a file the way
`memorial verify` does. Heavy imports happen inside the functions.
"""

from __future__ import annotations

from .exporter import ExportRecord, Exporter
from .verify import VerifyReport, verify_file

__all__ = ["ExportRecord", "Exporter", "VerifyReport", "verify_file"]
