"""transforms.narrowing: the dates a change reaches, and the input rows those dates need.

Inputs carry only the columns the helpers read; dates are October 2026.
"""

from __future__ import annotations

import datetime as dt

from pyspark.sql import DataFrame, SparkSession
from pyspark.testing import assertDataFrameEqual

from transforms.narrowing import (
    customer_dates_reached,
    date_range,
    events_of_sessions_on,
    lines_of_customers_on,
    on_dates,
    session_dates_reached,
    widened,
)

EVENTS = "event_id string, session_id string, event_date date"
LINES = "line string, customer_id string, order_date date, is_sale boolean"


def day(n: int) -> dt.date:
    return dt.date(2026, 10, n)


def _dates(frame: DataFrame) -> set[dt.date]:
    return {row.date for row in frame.collect()}


def test_widened() -> None:
    assert widened([day(6), day(5), day(6)]) == [day(5), day(6)]
    assert widened([day(5), day(6)], before=1, after=1) == [day(4), day(5), day(6), day(7)]
    sept = [dt.date(2026, 9, d) for d in range(26, 31)]
    assert widened([day(3)], before=7) == [*sept, day(1), day(2), day(3)]  # a look-back across a month end


def test_events_of_whole_sessions_on_dates(spark: SparkSession) -> None:
    events = spark.createDataFrame(
        [
            ("a", "s1", day(1)),  # s1 has an event on 10-02: kept whole
            ("b", "s1", day(2)),
            ("c", "s2", day(3)),  # s2 has none: left out
            ("d", None, day(2)),  # no session: kept on the dates only
            ("e", None, day(3)),
            ("f", "s3", day(2)),  # s3 goes on after 10-02: kept whole
            ("g", "s3", day(4)),
        ],
        EVENTS,
    )
    kept = events_of_sessions_on(events, [day(2)])
    assert sorted(r.event_id for r in kept.collect()) == ["a", "b", "d", "f", "g"]
    assert sorted(r.event_id for r in on_dates(events, "event_date", [day(2), day(4)]).collect()) == [
        "b",
        "d",
        "f",
        "g",
    ]


def test_lines_of_whole_customers_on_dates(spark: SparkSession) -> None:
    lines = spark.createDataFrame(
        [
            ("l1", "u1", day(1), True),  # u1 buys on 10-02: all of u1's lines
            ("l2", "u1", day(2), False),
            ("l3", None, day(2), True),  # guests: on the dates only
            ("l4", None, day(3), True),
            ("l5", "u2", day(3), True),
        ],
        LINES,
    )
    kept = lines_of_customers_on(lines, [day(2)])
    assert sorted(r.line for r in kept.collect()) == ["l1", "l2", "l3"]


def test_session_dates_reached(spark: SparkSession) -> None:
    previous = spark.createDataFrame(
        [("p1", "s1", day(2)), ("p2", "s1", day(3)), ("q1", "s2", day(5)), ("r1", "s3", day(7)), ("z1", "s9", day(9))],
        EVENTS,
    )
    now = spark.createDataFrame(
        [
            ("n0", "s1", day(1)),  # s1 now starts a day earlier
            ("p1", "s1", day(2)),
            ("p2", "s1", day(3)),
            ("q1", "s2", day(5)),
            ("q2", "s2", day(6)),  # s2 gets a later event: its start does not move
            ("z1", "s9", day(9)),  # s3 is gone (its event deleted)
            ("x1", None, day(8)),
        ],
        EVENTS,
    )
    changed = spark.createDataFrame(
        [("n0", "s1", day(1)), ("q2", "s2", day(6)), ("r1", "s3", day(7)), ("x1", None, day(8))], EVENTS
    )
    # s1: its date now (10-01) and the date it left (10-02); s2: its date (10-05), whose counts changed;
    # s3: the date it left (10-07). The sessionless event and the untouched s9 reach no session date.
    assert _dates(session_dates_reached(now, previous, changed)) == {day(1), day(2), day(5), day(7)}


def test_customer_dates_reached(spark: SparkSession) -> None:
    previous = spark.createDataFrame(
        [
            ("a", "u1", day(3), True),
            ("b", "u2", day(2), True),
            ("c", "u3", day(4), True),
            ("d", "u5", day(1), True),
        ],
        LINES,
    )
    now = spark.createDataFrame(
        [
            ("e", "u1", day(1), True),  # u1's first sale moves back from 10-03
            ("a", "u1", day(3), True),
            ("b", "u2", day(2), True),
            ("f", "u2", day(6), True),  # a later sale: u2's first sale stays 10-02
            ("c", "u3", day(4), False),  # u3's only sale is cancelled: u3 leaves 10-04
            ("g", "u4", day(5), True),  # a new customer
            ("h", "u6", day(5), False),  # a cancelled line only: no first sale either side
            ("d", "u5", day(1), True),
            ("i", None, day(7), True),  # a guest
        ],
        LINES,
    )
    changed = now.filter("line IN ('e', 'f', 'c', 'g', 'h', 'i')").unionByName(previous.filter("line = 'c'"))
    assert _dates(customer_dates_reached(now, previous, changed)) == {day(1), day(3), day(4), day(5)}


def test_date_range(spark: SparkSession) -> None:
    frame = spark.createDataFrame([], "x int")
    assertDataFrameEqual(
        date_range(frame, [day(2), day(4)]), spark.createDataFrame([(day(2),), (day(4),)], "date date")
    )
