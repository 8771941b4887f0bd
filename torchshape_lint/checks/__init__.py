"""Models found in a file, the violations their evaluation proves, and the rules that report them."""
