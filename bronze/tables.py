"""Bronze table declarations: one per landing ``table`` name, plus bronze.clickstream when Kafka is enabled.

Importable without Spark or Great Expectations: builds, suites and the landing check are bound
references (``lakehouse.catalog.bound``) imported when the runner calls them.
"""

from __future__ import annotations

from collections import defaultdict

from ingestion.sources import Source, load_sources
from lakehouse.catalog import TableDef, bound
from lakehouse.settings import Settings

# Read whole or by version, never filtered: no column statistics (1M rows: 3.3 s -> 2.0 s to write).
NO_STATISTICS = 0


def declare(settings: Settings) -> list[TableDef]:
    by_table: dict[str, list[Source]] = defaultdict(list)
    for source in load_sources(settings.sources_file).values():
        by_table[source.table].append(source)
    tables = [
        TableDef(
            layer="bronze",
            name=name,
            grain="One row per landing record (line, CSV row, sheet row or document) as it arrived.",
            build=bound("bronze.ingest:ingest_new_files", sources=sources),
            write="append",
            change_feed=True,
            stats_columns=NO_STATISTICS,
            suite=bound("expectations.bronze_suites:structure", sources[0].columns),
            description="Sources: " + ", ".join(f"{s.name} ({s.format}, {s.glob})" for s in sources),
            has_new_input=bound("bronze.ingest:has_new_files", table_id=f"bronze.{name}", sources=sources),
        )
        for name, sources in sorted(by_table.items())
    ]
    if settings.kafka_enabled:
        tables.append(
            TableDef(
                layer="bronze",
                name="clickstream",
                grain="One row per Kafka message of the clickstream topic, as it arrived.",
                build="bronze.clickstream:extract",
                write="append",
                change_feed=True,
                stats_columns=NO_STATISTICS,
                suite="bronze.clickstream:suite",
                description=f"Kafka topic {settings.kafka_topic!r} at {settings.kafka_bootstrap}: bounded batch "
                "extracts, offsets committed with the data.",
            )
        )
    return tables
