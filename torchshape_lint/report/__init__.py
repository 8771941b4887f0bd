"""Views of findings: the flake8 plugin, the command line and its output formats."""
