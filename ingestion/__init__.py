"""Landing-zone discovery and one reader per format; every reader adds ``_ingest_*`` metadata."""
