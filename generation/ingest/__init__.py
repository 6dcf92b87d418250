"""Ingest: media files -> originals and face samples in the vault -> the SubjectDataset."""

from .dataset import fit_subject
from .pipeline import IngestReport, ingest_paths

__all__ = ["IngestReport", "ingest_paths", "fit_subject"]
