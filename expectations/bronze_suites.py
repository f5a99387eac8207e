"""Bronze suites: structure only. Bronze accepts anything; silver decides what is valid."""

from __future__ import annotations

import great_expectations.expectations as gxe

from lakehouse.quality import Check, critical, warn


def structure(columns: list[str]) -> list[Check]:
    return [
        critical(
            gxe.ExpectTableColumnsToMatchSet(
                column_set=[
                    *columns,
                    "_corrupt_record",
                    "_rescued_data",
                    "_ingest_file",
                    "_ingest_seq",
                    "_source",
                    "_ingest_ts",
                    "_ingest_batch_id",
                ],
                exact_match=True,
            )
        ),
        critical(gxe.ExpectColumnValuesToNotBeNull(column="_ingest_file")),
        # A few unparseable lines are bad rows (silver quarantines them); a majority means
        # the wrong format or a broken export, and ingesting it would only bury the problem.
        critical(gxe.ExpectColumnValuesToBeNull(column="_corrupt_record", mostly=0.5)),
        warn(gxe.ExpectColumnValuesToBeNull(column="_corrupt_record", mostly=0.99)),
    ]
