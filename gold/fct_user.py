"""gold.fct_user — one row per user seen in events or as the customer of a sale line.

``first_seen``/``last_seen`` span both events and sale lines; ``sessions`` are the sessions of
transforms.sessions whose first event is the user's (see ``transforms.fct_user``).
"""

from __future__ import annotations

from lakehouse.model import InputFrames, TableOutput
from transforms.fct_user import fct_user


def build(inputs: InputFrames) -> TableOutput:
    return TableOutput(data=fct_user(inputs["silver.events"], inputs["silver.order_lines"]))
