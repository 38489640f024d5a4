"""Reading a user's table file: CSV, TSV (also compressed) or Parquet.

A clear ValueError for every kind of file that is not a table (an image, a
binary file, an empty file, an unknown extension), before any pandas
traceback. pandas only.
"""

import pandas as pd

__all__ = []

_CSV_SUFFIXES = (".csv", ".tsv")
_PARQUET_SUFFIXES = (".parquet", ".pq")
_COMPRESSIONS = (".gz", ".bz2", ".zip", ".xz", ".zst")
_MAGIC = (
    (b"\x89PNG\r\n\x1a\n", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF8", "a GIF image"),
    (b"%PDF", "a PDF document"),
    (b"PAR1", "a Parquet file"),
    (b"PK\x03\x04", "a ZIP archive (an Excel .xlsx file is one)"),
    (b"\xd0\xcf\x11\xe0", "an old Excel/Office file"),
    (b"\x7fELF", "a program"),
)


# ---------------------------------------------------------------------------
# Reading the file
# ---------------------------------------------------------------------------


def _file_format(path):
    name = path.name.lower()
    for comp in ("", *_COMPRESSIONS):
        for suffix in _CSV_SUFFIXES:
            if name.endswith(suffix + comp):
                return "tsv" if suffix == ".tsv" else "csv", comp
    if name.endswith(_PARQUET_SUFFIXES):
        return "parquet", ""
    expected = ", ".join(
        [*_CSV_SUFFIXES, *_PARQUET_SUFFIXES, ".csv.gz (or .bz2, .zip, .xz, .zst)"]
    )
    raise ValueError(
        f"path={str(path)!r} has an unknown extension {path.suffix!r}: expected a table "
        f"file ending in {expected}."
    )


def _check_text_head(path, what):
    """Refuse a binary file saved under a CSV name, before pandas sees it."""
    with open(path, "rb") as fh:
        head = fh.read(8192)
    if not head.strip():
        raise ValueError(
            f"path={str(path)!r} is empty: expected a {what} file with a header line "
            "and one row per sample."
        )
    for magic, kind in _MAGIC:
        if head.startswith(magic):
            raise ValueError(
                f"path={str(path)!r} is {kind}, not a {what} text file: expected a "
                "table (comma-separated text or Parquet)."
            )
    if b"\x00" in head:
        raise ValueError(
            f"path={str(path)!r} is a binary file, not a {what} text file: expected "
            "a table (comma-separated text or Parquet)."
        )


def _read(path):
    fmt, compression = _file_format(path)
    if fmt == "parquet":
        try:
            import pyarrow  # noqa: F401
        except ImportError:
            raise ImportError(
                f"reading the Parquet file {str(path)!r} needs pyarrow, which is not "
                "installed: pip install pyarrow (or save the table as CSV)."
            ) from None
        try:
            return pd.read_parquet(path), fmt
        except Exception as exc:  # pyarrow raises its own error types
            first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            raise ValueError(
                f"path={str(path)!r} could not be read as Parquet ({first}): expected "
                "a Parquet table."
            ) from None
    what = "TSV" if fmt == "tsv" else "CSV"
    if not compression:
        _check_text_head(path, what)
    try:
        frame = pd.read_csv(path, sep="\t" if fmt == "tsv" else ",", low_memory=False)
    except pd.errors.EmptyDataError:
        raise ValueError(
            f"path={str(path)!r} is empty: expected a {what} file with a header line "
            "and one row per sample."
        ) from None
    except UnicodeDecodeError as exc:
        raise ValueError(
            f"path={str(path)!r} is not UTF-8 text ({exc.reason} at byte {exc.start}): "
            f"expected a {what} file saved as UTF-8."
        ) from None
    except (pd.errors.ParserError, ValueError, OSError, EOFError) as exc:
        first = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise ValueError(
            f"path={str(path)!r} could not be read as {what} ({first}): expected a "
            "table with a header line and the same number of fields on every line."
        ) from None
    return frame, fmt
