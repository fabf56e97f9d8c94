"""Reading Kaggle's fer2013.csv (plain, .gz or .xz) into faces, fast and checked.

The file is streamed in blocks of whole lines: each line is split on commas (fields never
hold commas, so quotes are ignored rather than allowed to join lines), and the pixel fields
of a block are parsed at once by numpy's C reader. Peak memory stays near the size of the
decoded faces. Any bad line (wrong field count, unknown emotion code or split, a pixel value
that is not an integer 0-255, not 48x48 values) is an error that names the lines.
"""

from __future__ import annotations

import gzip
import lzma
import warnings
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

import numpy as np

from ..errors import FervizError, shown
from ..labels import EMOTIONS, FACE_SIZE
from ..progress import progress

SPLITS = ("Training", "PublicTest", "PrivateTest")
COLUMNS = ("emotion", "pixels", "Usage")
PIXELS = FACE_SIZE * FACE_SIZE
BLOCK = 1 << 22  # bytes of decompressed text parsed at once
MAX_LINE = 1 << 20  # bytes: a FER2013 line is about 9 kB (2,304 values of up to 3 digits)
SHOWN = 5  # bad lines named in a message
_CODES = {str(i).encode(): i for i in range(len(EMOTIONS))}
_SPLIT_OF = {s.lower().encode(): s for s in SPLITS}
_BLANK = bytes.maketrans(b"\t\r", b"  ")  # odd whitespace inside a field
_FIELDS = bytes.maketrans(b",\t\r", b"   ")
_LETTERS = bytes(range(65, 91)) + bytes(range(97, 123))
# What a corrupt or truncated compressed file raises while it is read.
_READ_ERRORS = (OSError, EOFError, zlib.error, lzma.LZMAError)


def _open(path: Path, raw: BinaryIO) -> BinaryIO:
    name = path.name.lower()
    if name.endswith(".gz"):
        return gzip.GzipFile(fileobj=raw)
    if name.endswith(".xz"):
        return lzma.LZMAFile(raw)
    return raw


class _LongLine(Exception):
    """A line longer than :data:`MAX_LINE` (a file that is no fer2013.csv, or a bomb that
    decompresses into one endless line): reading on would take memory and time without
    end."""


def _blocks(stream: BinaryIO) -> Iterator[bytes]:
    """Whole lines, about :data:`BLOCK` bytes at a time, each block ending with a newline.

    Raises:
        _LongLine: a line longer than :data:`MAX_LINE` bytes (the next line to parse).
    """
    rest = b""
    while data := stream.read(BLOCK):
        buf = rest + data
        cut = buf.rfind(b"\n") + 1
        if cut:
            yield buf[:cut]
        rest = buf[cut:]
        if len(rest) > MAX_LINE:
            raise _LongLine
    if rest:
        yield rest + b"\n"


def _unquote(field: bytes) -> bytes | None:
    """A field without its enclosing quotes; None if its quotes do not pair up."""
    s = field.strip(b" \t\r")
    if b'"' not in s:
        return field
    if len(s) >= 2 and s[0] == s[-1] == ord('"') and b'"' not in s[1:-1]:
        return s[1:-1]
    return None


def _shown(text: bytes) -> str:
    s = text.decode("utf-8", "backslashreplace")
    return repr(s if len(s) <= 40 else s[:37] + "...")


def _lines(numbers: list[int]) -> str:
    more = f" (and {len(numbers) - SHOWN} more)" if len(numbers) > SHOWN else ""
    return ("line " if len(numbers) == 1 else "lines ") + \
        ", ".join(map(str, numbers[:SHOWN])) + more


def _header(line: bytes, path: Path) -> tuple[int, int, int, int]:
    """Field count and the positions of emotion, pixels and Usage."""
    names = [c.strip().strip('"').strip() for c in
             line.decode("utf-8-sig", "backslashreplace").strip().split(",")]
    missing = [c for c in COLUMNS if c not in names]
    if missing:
        raise FervizError(f"{shown(path)}: missing column(s) {', '.join(missing)}; expected "
                          f"{','.join(COLUMNS)} (found {','.join(names)[:80]})")
    return len(names), *(names.index(c) for c in COLUMNS)


class _Reader:
    """Parses blocks of lines, collecting faces, codes and splits."""

    def __init__(self, path: Path, header: bytes) -> None:
        self.path = path
        self.width, self.i_emotion, self.i_pixels, self.i_usage = _header(header, path)
        self.standard = (self.width, self.i_emotion, self.i_pixels, self.i_usage) == (3, 0, 1, 2)
        self.line = 1  # number of the last line read (the header is line 1)
        self.faces: list[np.ndarray] = []
        self.codes: list[int] = []
        self.usage: list[str] = []

    def fail(self, bad: list[tuple[int, bytes]], what: str, quote: bool = True) -> None:
        """Raise, naming the lines in ``bad`` (line number, first bad value), if any."""
        if bad:
            value = _shown(bad[0][1]) if quote else bad[0][1].decode()
            raise FervizError(f"{shown(self.path)}: {_lines([n for n, _ in bad])}: "
                              f"{what.format(value)}")

    def block(self, text: bytes) -> None:
        if not text.strip(b" \t\r\n"):  # blank lines only (a run of newlines): skip fast
            self.line += text.count(b"\n")
            return
        lines = text.split(b"\n")[:-1]
        first = self.line + 1
        self.line += len(lines)
        if not (self.standard and self._fast(text, lines)):
            self._general(lines, first)

    def _fast(self, text: bytes, lines: list[bytes]) -> bool:
        """Parse a block of plain ``emotion,pixels,Usage`` lines in one numpy call; False
        (nothing kept) at anything unusual, which :meth:`_general` then handles or names."""
        codes, usage = [], []
        for line in lines:
            code = _CODES.get(line[:line.find(b",")].strip(b" "))
            split = _SPLIT_OF.get(line[line.rfind(b",") + 1:].strip(b" \t\r").lower())
            if code is None or split is None:
                return False
            codes.append(code)
            usage.append(split)
        if text.count(b",") != 2 * len(lines) or b'"' in text:
            return False
        numbers = text.translate(_FIELDS, _LETTERS)  # "3,1 2 ...,Training" -> "3 1 2 ... "
        if len(text) - len(numbers) != sum(map(len, usage)):  # a letter outside Usage
            return False
        try:
            rows = np.loadtxt(numbers.split(b"\n")[:-1], dtype=np.uint8, ndmin=2,
                              comments=None)
        except ValueError:
            return False
        if rows.shape != (len(lines), PIXELS + 1):
            return False
        self.faces.append(rows[:, 1:].reshape(-1, FACE_SIZE, FACE_SIZE))
        self.codes += codes
        self.usage += usage
        return True

    def _general(self, lines: list[bytes], first: int) -> None:
        """Any column order, quoted fields, blank lines; names the bad lines."""
        pixels, numbers = [], []
        wrong: list[tuple[int, bytes]] = []
        quotes: list[tuple[int, bytes]] = []
        codes: list[tuple[int, bytes]] = []
        splits: list[tuple[int, bytes]] = []
        for number, line in enumerate(lines, first):
            fields = line.split(b",")
            if len(fields) != self.width:
                if line.strip(b" \t\r"):
                    wrong.append((number, b"%d" % len(fields)))
                continue
            if b'"' in line:
                unquoted = [_unquote(f) for f in fields]
                if None in unquoted:
                    quotes.append((number, next(f for f, u in zip(fields, unquoted) if u is None)))
                    continue
                fields = unquoted
            code = _CODES.get(fields[self.i_emotion].strip(b" \t\r"))
            split = _SPLIT_OF.get(fields[self.i_usage].strip(b" \t\r").lower())
            if code is None:
                codes.append((number, fields[self.i_emotion]))
            if split is None:
                splits.append((number, fields[self.i_usage]))
            numbers.append(number)
            pixels.append(fields[self.i_pixels])
            self.codes.append(code)
            self.usage.append(split)
        self.fail(wrong, f"{{}} comma-separated fields, expected {self.width} "
                         f"({','.join(COLUMNS)})", quote=False)
        self.fail(quotes, "unbalanced quotes in {} (a stray quote would join lines)")
        self.fail(codes, f"unknown emotion code {{}} (expected 0-6: {', '.join(EMOTIONS)})")
        self.fail(splits, f"Usage {{}} is not a FER2013 split (expected {', '.join(SPLITS)})")
        if pixels:
            self.faces.append(self._pixels(pixels, numbers))

    def _pixels(self, fields: list[bytes], numbers: list[int]) -> np.ndarray:
        text = b"\n".join(fields).translate(_BLANK)
        try:
            with warnings.catch_warnings():  # an all-empty block: "input contained no data"
                warnings.simplefilter("ignore", UserWarning)
                faces = np.loadtxt(text.split(b"\n"), dtype=np.uint8, ndmin=2, comments=None)
        except ValueError:
            faces = None
        if faces is None or faces.shape != (len(fields), PIXELS):
            self._explain(fields, numbers)
        return faces.reshape(-1, FACE_SIZE, FACE_SIZE)

    def _explain(self, fields: list[bytes], numbers: list[int]) -> None:
        """Name the lines whose pixels numpy refused (the slow path, for errors only)."""
        count: list[tuple[int, bytes]] = []
        value: list[tuple[int, bytes]] = []
        for field, number in zip(fields, numbers):
            tokens = field.translate(_BLANK).split()
            bad = [t for t in tokens if not (t.isdigit() and len(t) <= 3 and int(t) <= 255)]
            if len(tokens) != PIXELS:
                count.append((number, b"%d" % len(tokens)))
            elif bad:
                value.append((number, bad[0]))
        self.fail(count, f"{{}} pixel values, expected {PIXELS} (48x48)", quote=False)
        value = [(n, v if len(v) <= 12 else v[:12] + b"...") for n, v in value]
        self.fail(value, "pixel value {} is not an integer 0-255")
        raise FervizError(f"{shown(self.path)}: lines {numbers[0]}-{numbers[-1]}: "
                          "unreadable pixels")


def parse_csv(path: str | Path, quiet: bool | None = None
              ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """All rows of a fer2013.csv as (N x 48 x 48 uint8 faces, int8 emotion codes, Usage).

    Raises:
        FervizError: unreadable, corrupt or truncated files, and bad lines (named).
    """
    path = Path(path)
    kind = path.suffix.lstrip(".") if path.suffix.lower() in (".gz", ".xz") else "csv"
    try:
        raw = open(path, "rb")
    except OSError as e:
        raise FervizError(f"{shown(path)}: cannot open it ({e.strerror})") from e
    try:
        with raw, _open(path, raw) as stream, \
                progress(desc=f"parsing {path.name}", total=path.stat().st_size, unit="B",
                         unit_scale=True, quiet=quiet, leave=False) as bar:
            header = stream.readline(1 << 16)
            if not header:
                raise FervizError(f"{shown(path)}: the file is empty")
            if not header.strip():
                raise FervizError(f"{shown(path)}: line 1 is blank; expected the header "
                                  f"{','.join(COLUMNS)}")
            reader = _Reader(path, header)
            try:
                for text in _blocks(stream):
                    reader.block(text)
                    bar.update(raw.tell() - bar.n)
            except _LongLine:
                raise FervizError(f"{shown(path)}: line {reader.line + 1:,} is longer than "
                                  f"{MAX_LINE >> 20} MB (a FER2013 line is about 9 kB); not a "
                                  "fer2013 csv") from None
    except _READ_ERRORS as e:
        what = "file" if kind == "csv" else f"{kind} file"
        raise FervizError(f"{shown(path)}: cannot read the {what}; it is corrupt or truncated "
                          f"({type(e).__name__}: {e})") from e
    if not reader.codes:
        raise FervizError(f"{shown(path)}: no rows")
    faces = np.concatenate(reader.faces) if len(reader.faces) > 1 else reader.faces[0]
    return faces, np.array(reader.codes, np.int8), np.array(reader.usage, dtype=object)
