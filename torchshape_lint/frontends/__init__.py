"""Where users run the linter: the flake8 plugin, the command line, the language server; the runner and result cache
they share, and `--fix`, which writes the suggested values back."""
