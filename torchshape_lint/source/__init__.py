"""Reading the source: text → ast statement map → lazily parsed libcst units, pragmas, positions."""
