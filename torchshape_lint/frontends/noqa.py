"""`# noqa` in standalone mode, decided by flake8's own code so that it behaves exactly as under flake8:
`# flake8: noqa` skips the file, and `# noqa` or `# noqa: CODES` (prefixes too) on the finding's line silences it
(lines joined by a multi-line string count as one)."""

from __future__ import annotations

import argparse

# FileProcessor reads these from flake8's options; only the noqa switch matters for what is used here.
PROCESSOR_OPTIONS = argparse.Namespace(hang_closing=False, indent_size=4, max_line_length=79, max_doc_length=None,
                                       verbose=0, disable_noqa=False)


def unsilenced(findings: list, text: str, path: str) -> list:
    if not findings or "noqa" not in text.lower():  # flake8 tokenizes the whole file: only where it can matter
        return findings
    from flake8.processor import FileProcessor
    from flake8.violation import Violation

    processor = FileProcessor(path, PROCESSOR_OPTIONS, lines=text.splitlines(keepends=True))
    if processor.should_ignore_file():
        return []
    return [finding for finding in findings
            if not Violation(finding.code, path, finding.line, finding.column + 1, finding.message,
                             processor.noqa_line_for(finding.line)).is_inline_ignored(False)]
