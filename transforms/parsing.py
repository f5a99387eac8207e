"""Column helpers that turn bronze strings into typed values, or null when unparseable.

Null means "could not parse"; the rules in ``transforms.rules`` turn that into a
quarantine reason. Nothing here raises on bad input, whatever ANSI mode says.
"""

from __future__ import annotations

from pyspark.sql import Column
from pyspark.sql import functions as F

# YYYY-MM-DD, optional [T or space]hh:mm[:ss[.fraction]], optional Z or ±hh[:mm] / ±hhmm.
ISO_TIMESTAMP = (
    r"^(\d{4}-\d{2}-\d{2})"
    r"(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d+))?)?)?"
    r"(Z|[+-]\d{2}(?::?\d{2})?)?$"
)


# The six groups of ISO_TIMESTAMP joined by "|" (an unmatched group gives an empty field): one
# regex pass splits a timestamp into all of its parts instead of one regexp_extract per part.
_PARTS = "$1|$2|$3|$4|$5|$6"


def parse_iso_timestamp(raw: Column) -> Column:
    """ISO-8601 text -> UTC timestamp (microseconds); null when the text is not of the contract's form.

    The contract's regex decides what is a timestamp at all. For text it accepts, Spark's own
    string-to-timestamp cast gives the instant (about 4x faster per value than the part-wise
    reading: it is one code-generated expression, where the part-wise reading runs through an
    interpreted lambda). The cast refuses a few forms the contract accepts (offsets beyond
    +-18:00); for those ``exact_iso_timestamp`` decides. The two agree on every value both
    accept (tests/transforms/test_parsing.py compares them on a seeded adversarial corpus).
    """
    text = F.trim(raw)
    return F.when(text.rlike(ISO_TIMESTAMP), F.coalesce(text.try_cast("timestamp"), exact_iso_timestamp(raw)))


def exact_iso_timestamp(raw: Column) -> Column:
    """The contract's timestamp reading, part by part: the reference ``parse_iso_timestamp`` follows.

    Parsing goes through a fixed local pattern plus an explicit offset in seconds,
    because Spark's own parser accepts forms the contract rejects and vice versa. Two regex
    passes per value: one test, one split into parts (a matching text holds no ``|``).

    The parts are bound once through a one-element ``transform``: written as one nested
    expression, every reference to a part sat inside a conditional branch, where Spark's
    subexpression elimination does not reach, so the regex split ran once per reference
    (about a dozen times per value; 4.3 s instead of 1.3 s for 196k values on 2 cores).
    """
    text = F.trim(raw)
    parts = F.when(text.rlike(ISO_TIMESTAMP), F.split(F.regexp_replace(text, ISO_TIMESTAMP, _PARTS), r"\|", 6))
    return F.transform(F.array(parts), _timestamp_from_parts).getItem(0)


def _timestamp_from_parts(parts: Column) -> Column:
    """The UTC instant of the six parts of ``ISO_TIMESTAMP`` (null parts -> null)."""

    def part(index: int) -> Column:
        return parts.getItem(index)

    hour = F.coalesce(F.nullif(part(1), F.lit("")), F.lit("00"))
    minute = F.coalesce(F.nullif(part(2), F.lit("")), F.lit("00"))
    second = F.coalesce(F.nullif(part(3), F.lit("")), F.lit("00"))
    fraction = F.rpad(F.substring(part(4), 1, 6), 6, "0")
    local_text = F.concat(part(0), F.lit(" "), hour, F.lit(":"), minute, F.lit(":"), second, F.lit("."), fraction)
    local = F.try_to_timestamp(local_text, F.lit("yyyy-MM-dd HH:mm:ss.SSSSSS"))
    offset = F.translate(part(5), ":", "")
    sign = F.when(offset.startswith("-"), F.lit(-1)).otherwise(F.lit(1))
    offset_hours = F.when(F.length(offset) >= 3, F.substring(offset, 2, 2).cast("int")).otherwise(0)
    offset_minutes = F.when(F.length(offset) == 5, F.substring(offset, 4, 2).cast("int")).otherwise(0)
    offset_seconds = sign * (offset_hours * 3600 + offset_minutes * 60)
    valid_offset = (offset_hours <= 23) & (offset_minutes <= 59)
    utc_micros = F.unix_micros(local) - offset_seconds.cast("long") * F.lit(1_000_000)
    return F.when(valid_offset & local.isNotNull(), F.timestamp_micros(utc_micros))


def clean_identifier(raw: Column) -> Column:
    """Trimmed identifier text; null when missing or blank (an empty id is no id)."""
    text = F.trim(raw)
    return F.when(text != "", text)


def clean_lower(raw: Column) -> Column:
    """Trimmed, lower-cased text for case-insensitive enums; null when blank."""
    return F.lower(clean_identifier(raw))


def parse_decimal(raw: Column, precision: int = 18, scale: int = 4) -> Column:
    """Decimal from text; null when missing or not a plain number."""
    text = F.trim(raw)
    return F.when(text.rlike(r"^[+-]?(\d+\.?\d*|\.\d+)$"), text.try_cast(f"decimal({precision},{scale})"))


def parse_date(raw: Column) -> Column:
    """A calendar date from text of the form YYYY-MM-DD (a timestamp's date part is accepted)."""
    return F.to_date(parse_iso_timestamp(raw))
