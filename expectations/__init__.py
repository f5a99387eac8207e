"""One Great Expectations suite per table, as code, with a severity per expectation."""
