"""Ingest: media files -> originals and face samples in the vault -> the SubjectDataset."""

from .pipeline import IngestReport, ingest_paths

__all__ = ["IngestReport", "ingest_paths", "fit_subject"]


def fit_subject(vault, single_photo=None, progress: bool = True, config=None):
    """(SubjectDataset, HeadModel) built from the stored samples; see dataset.fit_subject."""
    from .dataset import fit_subject as _fit

    return _fit(vault, single_photo=single_photo, progress=progress, config=config)
