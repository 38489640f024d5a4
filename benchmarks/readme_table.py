"""Copy the lead results table into README.rst, compact (one line per baseline).

The quality suite writes its lead tables (``list-table`` directives) to
``docs/user_guide/lead_tables.inc``; README.rst shows the first of them (JIN
minus each baseline, worst-group robust accuracy, with 95% intervals) as a
``csv-table`` between ``.. begin-lead-table`` and ``.. end-lead-table``. Run after
the lead tables change:

    python -m benchmarks.readme_table
"""

import re
import sys
from pathlib import Path

from benchmarks._common import atomic_write_text

ROOT = Path(__file__).resolve().parents[1]
LEAD_TABLES = ROOT / "docs" / "user_guide" / "lead_tables.inc"
README = ROOT / "README.rst"
BEGIN, END = ".. begin-lead-table\n", ".. end-lead-table\n"


def first_list_table(text):
    """``(caption, rows)`` of the first ``.. list-table::`` in ``text``."""
    match = re.search(r"^\.\. list-table::[ \t]*(.*)\n", text, flags=re.M)
    if match is None:
        raise ValueError("no '.. list-table::' found in the lead tables")
    rows = []
    for line in text[match.end() :].splitlines():
        if line.startswith("   * - "):
            rows.append([line[len("   * - ") :].strip()])
        elif line.startswith("     - ") and rows:
            rows[-1].append(line[len("     - ") :].strip())
        elif line.strip() and not line.startswith("   "):
            break  # the directive's content ended
    if len(rows) < 2 or len({len(r) for r in rows}) != 1:
        raise ValueError(f"malformed list-table: row lengths {[len(r) for r in rows]}")
    return match.group(1).strip(), rows


def _cell(text):
    return '"' + text.replace('"', '""') + '"'


def compact_table(caption, rows):
    """The same table as a ``csv-table`` directive, one line per row."""
    header, *body = rows
    lines = [
        f".. csv-table:: {caption}",
        "   :header: " + ", ".join(_cell(c) for c in header),
        "   :stub-columns: 1",
        "",
    ]
    lines += ["   " + ", ".join(_cell(c) for c in row) for row in body]
    return "\n".join(lines) + "\n"


def render_readme(readme_text, lead_text):
    """``readme_text`` with the block between the lead-table markers replaced."""
    start, end = readme_text.index(BEGIN), readme_text.index(END)
    table = compact_table(*first_list_table(lead_text))
    return readme_text[: start + len(BEGIN)] + "\n" + table + "\n" + readme_text[end:]


def main(argv=None):
    text = render_readme(README.read_text(encoding="utf-8"), LEAD_TABLES.read_text())
    atomic_write_text(README, text)
    print(f"updated {README}", file=sys.stderr)


if __name__ == "__main__":
    main()
