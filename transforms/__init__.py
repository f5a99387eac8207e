"""Pure DataFrame -> DataFrame functions and column helpers. No I/O, no sessions, no paths."""
