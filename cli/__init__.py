"""The ``lakehouse`` command: the top layer, above the flows and the dashboard (nothing imports it)."""
