"""``lakehouse produce`` and ``lakehouse kafka-skip-lost``: the Kafka side of the clickstream.

Kept apart from the main CLI module so confluent-kafka only loads for this command; the
main CLI calls :func:`register` on its Typer app. Extracting the topic needs no command
of its own: with ``LAKEHOUSE_KAFKA_ENABLED=true`` ``lakehouse run`` builds bronze.clickstream.
"""

from __future__ import annotations

import time

import typer

from cli import common
from lakehouse.settings import Settings


def publish_clickstream(settings: Settings, topic: str, days: int, users: int, seed: int) -> int:
    """Publish the generated clickstream (the good events of ``lakehouse generate``) to ``topic``."""
    from devtools.generate import iter_clickstream
    from ingestion.kafka import event_messages, publish_messages

    return publish_messages(settings, topic, event_messages(iter_clickstream(days, users, seed)))


def register(app: typer.Typer) -> None:
    """Add ``produce`` and ``kafka-skip-lost`` to ``app``."""

    @app.command("produce")
    def produce_command(
        days: int = typer.Option(14, min=1, help="Days of activity (as for `lakehouse generate`)."),
        users: int = typer.Option(1500, min=10, help="Distinct users."),
        seed: int = typer.Option(7, help="Random seed: the same seed publishes the same events."),
        topic: str | None = typer.Option(None, help="Topic to publish to (default: LAKEHOUSE_KAFKA_TOPIC)."),
        partitions: int = typer.Option(1, min=1, help="Partitions when the topic has to be created."),
    ) -> None:
        """Publish the generated clickstream: one JSON event per message, keyed by user_id (idempotent producer).

        The good events `lakehouse generate` writes with the same options (no planted faults or duplicates).
        """
        from ingestion.kafka import ensure_topic

        started = time.monotonic()
        try:
            settings = common.load()
            target = topic or settings.kafka_topic
            created = ensure_topic(settings, target, partitions=partitions)
            count = publish_clickstream(settings, target, days=days, users=users, seed=seed)
        except common.handled_errors() as exc:
            raise common.fail(exc) from exc
        typer.echo(
            f"published {count:,} events to {'new ' if created else ''}topic {target!r} at "
            f"{settings.kafka_bootstrap} in {time.monotonic() - started:.1f} s"
        )

    @app.command("kafka-skip-lost")
    def skip_lost_command(
        yes: bool = typer.Option(False, "--yes", help="Do not ask for confirmation."),
    ) -> None:
        """Accept that Kafka deleted messages before they were extracted, so extracts resume after the gap."""
        from bronze.clickstream import lost_messages, skip_lost_messages
        from lakehouse.spark import create_spark_session

        try:
            settings = common.load()
            topic = settings.kafka_topic
            lost = lost_messages(settings)
            if not lost:
                typer.echo(f"nothing to skip: every unextracted message of {topic!r} is still in Kafka")
                return
            ranges = ", ".join(f"partition {p} offsets {a}..{b - 1}" for p, (a, b) in lost.items())
            if not yes:
                typer.confirm(f"skip {sum(b - a for a, b in lost.values())} lost messages ({ranges})?", abort=True)
            skip_lost_messages(create_spark_session(settings), settings)
        except common.handled_errors() as exc:
            raise common.fail(exc) from exc
        typer.echo(f"skipped {ranges} of {topic!r}; the next extract starts after the gap")
