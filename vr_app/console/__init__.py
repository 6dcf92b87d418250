"""The therapist's live console: a FastAPI app on loopback, one page of plain JavaScript."""
