"""Suite of silver.events: one row per event_id, typed and within the contract's enums."""

from __future__ import annotations

import great_expectations.expectations as gxe

from lakehouse.quality import Check, critical, warn
from transforms.events import EVENT_TYPES


def suite() -> list[Check]:
    return [
        critical(gxe.ExpectColumnValuesToBeUnique(column="event_id")),
        critical(gxe.ExpectColumnValuesToNotBeNull(column="event_id")),
        critical(gxe.ExpectColumnValuesToNotBeNull(column="user_id")),
        critical(gxe.ExpectColumnValuesToNotBeNull(column="event_ts")),
        critical(gxe.ExpectColumnValuesToBeInSet(column="event_type", value_set=list(EVENT_TYPES))),
        warn(gxe.ExpectColumnValuesToNotBeNull(column="session_id", mostly=0.99)),
        warn(gxe.ExpectColumnValuesToBeInSet(column="device", value_set=["mobile", "desktop", "tablet"], mostly=0.95)),
    ]
