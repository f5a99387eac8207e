"""Silver: typed, de-duplicated, conformed tables; bad rows go to quarantine with a reason."""
