"""Views of findings: the output formats (text, json, github, sarif), explain's shape tables and graphs, rule docs."""
