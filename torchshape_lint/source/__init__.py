"""Reading the source: text, lines and its ast tree, pragmas, positions, imports, and the write analysis."""
