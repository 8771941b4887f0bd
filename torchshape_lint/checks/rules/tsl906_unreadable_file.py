from torchshape_lint.checks.rules import Rule


class UnreadableFile(Rule):
    """A file the command line was asked to check that is not Python it can read: a syntax error, an unknown or
    wrong encoding declaration, bytes that are not text, nesting deeper than Python's parser holds, or a file that
    cannot be opened. Nothing in it was checked. Under flake8 the plugin says nothing: flake8 reports these files
    itself (E999, E902)."""

    code = "TSL906"
    name = "unreadable-file"
    summary = "a file that cannot be read as Python, so nothing in it was checked"
    why = ("A file skipped in silence looks checked and clean. It is the file's problem, not the tool's: it is "
           "reported as a finding (exit 1), and the other files are checked as usual.")
    fix = ("Fix the syntax or the encoding declaration (Python reports the same error when it imports the file); "
           "for a file that is meant not to be Python (test data), `ignore = [\"TSL906\"]` in pyproject.toml.")
    bad = ""
    good = ""

    def message(self, v) -> str:
        return f"cannot read this file as Python, nothing in it was checked: {v.error}"
