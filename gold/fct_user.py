"""gold.fct_user — one row per user seen in events or as the customer of a sale line.

``first_seen``/``last_seen`` span both events and sale lines; ``sessions`` are the sessions of
transforms.sessions whose first event is the user's (see ``transforms.fct_user``).
"""

from __future__ import annotations

from lakehouse.model import TableOutput
from lakehouse.runner import BuildContext
from transforms.fct_user import fct_user


def build(context: BuildContext) -> TableOutput:
    frame = fct_user(context.read("silver.events"), context.read("silver.order_lines"))
    return TableOutput(data=context.cache(frame))
