"""What the dashboard opens on, and which folders it may open at all.

Settings, strongest first: arguments (``ferviz dashboard --data fer2013.csv.xz`` or
``streamlit run app.py -- --data ...``), environment variables (``FERVIZ_DATA``,
``FERVIZ_FERPLUS``, ``FERVIZ_LABELS``, ``FERVIZ_SPLIT``, ``FERVIZ_MODEL``, ``FERVIZ_ROOTS``),
the ``[dashboard]`` table of a settings file (``--settings``, ``$FERVIZ_SETTINGS``, else
``ferviz.toml`` in the working directory), then the defaults. A shared link (the page URL)
chooses among what these allow; it can neither grant trust nor reach outside the roots.

Roots: data and model paths are opened only inside the configured ``roots`` (default: the
working directory), the folders of the configured data, FER+ and model files, the upload
folder and the zoo.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import FervizError
from ..specs import LABEL_MODES, SYNTH

SETTINGS_FILE = "ferviz.toml"
MAX_PATH = 4096  # characters in a path the page accepts (Linux's PATH_MAX)
KEYS = ("data", "ferplus", "labels", "split", "model", "roots")
ENV = {k: f"FERVIZ_{k.upper()}" for k in KEYS}


@dataclass(frozen=True)
class Settings:
    """What the dashboard opens on, and where each value came from.

    Attributes:
        data: ``synth``, a FER2013 csv, or an image folder.
        ferplus: FER+ votes file (``fer2013new.csv``) or None.
        labels: ``fer2013``, ``ferplus-majority`` or ``ferplus-dist``.
        split: split to open (None: the data set's default).
        model: zoo name or model file (None: the default for the data).
        roots: folders whose files the page may open (os.pathsep-separated).
        origin: setting -> ``argument``, ``environment``, ``<file>`` or ``default``.
    """

    data: str = SYNTH
    ferplus: str | None = None
    labels: str = "fer2013"
    split: str | None = None
    model: str | None = None
    roots: str | None = None
    origin: dict[str, str] = field(default_factory=dict, compare=False)

    def root_folders(self) -> tuple[Path, ...]:
        """Every folder the page may open files under (resolved)."""
        from ..app.catalog import zoo_root
        from ..cache import cache_dir

        given = [Path(r) for r in (self.roots or "").split(os.pathsep) if r] or [Path.cwd()]
        given += [Path(p).parent if Path(p).is_file() else Path(p)
                  for p in (self.data, self.ferplus, self.model)
                  if p and p != SYNTH and Path(p).exists()]
        given += [cache_dir("uploads"), zoo_root()]
        return tuple(dict.fromkeys(p.resolve() for p in given))

    def allowed(self, path: str) -> Path:
        """``path`` resolved, if it lies under a root (relative paths: from the first root).

        Raises:
            FervizError: a path outside every root; the message names no outside path.
        """
        if "\x00" in path or len(path) > MAX_PATH:
            raise FervizError("that is not a usable path (a NUL byte, or over "
                              f"{MAX_PATH:,} characters)")
        roots = self.root_folders()
        p = Path(path).expanduser()
        try:
            full = (p if p.is_absolute() else roots[0] / p).resolve()
        except (OSError, RuntimeError) as e:  # a loop of links, a name too long
            raise FervizError(f"that path cannot be opened ({type(e).__name__})") from e
        if not any(full == r or full.is_relative_to(r) for r in roots):
            raise FervizError("that path is outside the folders this dashboard may open; "
                              "start it with --roots (or FERVIZ_ROOTS) to allow more")
        return full

    def shown(self, path: str | Path) -> str:
        """A path as the page shows it: relative to the root it lies under."""
        full = Path(path).resolve()
        for r in self.root_folders():
            if full.is_relative_to(r):
                return str(full.relative_to(r)) or "."
        return Path(path).name


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="ferviz dashboard", exit_on_error=False, add_help=False)
    p.add_argument("--data", help="synth, a fer2013 csv (.csv/.gz/.xz) or an image folder")
    p.add_argument("--ferplus", help="FER+ votes (fer2013new.csv)")
    p.add_argument("--labels", choices=LABEL_MODES)
    p.add_argument("--split")
    p.add_argument("--model", help="zoo name or model file")
    p.add_argument("--roots", help=f"folders the page may open, {os.pathsep!r}-separated")
    p.add_argument("--settings", help=f"settings file (default ./{SETTINGS_FILE})")
    return p


def usage() -> str:
    """The dashboard's own arguments, one per line (``ferviz dashboard --help`` shows them)."""
    return "\n".join(f"{a.option_strings[0]}: {a.help or a.dest}" + (
        f" ({', '.join(a.choices)})" if a.choices else "") for a in _parser()._actions)


def parse_args(argv: Sequence[str]) -> dict[str, str]:
    """The dashboard's arguments as a dict of the given ones.

    Raises:
        FervizError: for unknown arguments or bad values.
    """
    try:
        ns, extra = _parser().parse_known_args(list(argv))
    except (argparse.ArgumentError, SystemExit) as e:
        raise FervizError(f"dashboard arguments: {e}") from None
    if extra:
        raise FervizError(f"unknown dashboard argument(s) {' '.join(extra)}; use --data, "
                          "--ferplus, --labels, --split, --model, --roots or --settings")
    return {k: v for k, v in vars(ns).items() if v is not None}


def read_settings_file(path: str | os.PathLike) -> dict[str, str]:
    """The ``[dashboard]`` table of a TOML settings file; relative paths are taken from the
    file's folder.

    Raises:
        FervizError: unreadable file, bad TOML or unknown keys.
    """
    try:
        import tomllib
    except ImportError:  # Python 3.10
        try:
            import tomli as tomllib
        except ImportError as e:
            raise FervizError(f"{path}: reading settings files needs Python >= 3.11 or the "
                              "tomli package") from e
    path = Path(path)
    try:
        table = tomllib.loads(path.read_text(encoding="utf-8")).get("dashboard", {})
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as e:
        raise FervizError(f"{path}: not a readable settings file ({e})") from e
    if not isinstance(table, dict):
        raise FervizError(f"{path}: [dashboard] must be a table")
    unknown = sorted(set(table) - set(KEYS))
    if unknown:
        raise FervizError(f"{path}: unknown setting(s) {', '.join(unknown)}; known: "
                          f"{', '.join(KEYS)}")
    out = {k: os.pathsep.join(map(str, v)) if isinstance(v, list) else str(v)
           for k, v in table.items()}
    for k in ("data", "ferplus", "model"):
        if k in out and out[k] != SYNTH and (path.parent / out[k]).exists():
            out[k] = str(path.parent / out[k])
    if "roots" in out:
        out["roots"] = os.pathsep.join(str(path.parent / r) for r in
                                       out["roots"].split(os.pathsep) if r)
    return out


def resolve_settings(argv: Sequence[str] = (), environ: Mapping[str, str] | None = None,
                     cwd: str | os.PathLike = ".") -> Settings:
    """Settings from arguments, the environment and the settings file (in that order of
    strength).

    Raises:
        FervizError: bad arguments, a named settings file that is missing, or bad values.
    """
    environ = os.environ if environ is None else environ
    args = parse_args(argv)
    named = args.pop("settings", None) or environ.get("FERVIZ_SETTINGS")
    file = Path(named) if named else Path(cwd) / SETTINGS_FILE
    if named and not file.is_file():
        raise FervizError(f"{file}: settings file not found")
    layers = [(str(file), read_settings_file(file) if file.is_file() else {}),
              ("environment", {k: environ[v] for k, v in ENV.items() if environ.get(v)}),
              ("argument", args)]
    values: dict[str, Any] = {}
    origin = {k: "default" for k in KEYS}
    for where, layer in layers:
        for k, v in layer.items():
            values[k], origin[k] = v, where
    if values.get("labels", "fer2013") not in LABEL_MODES:
        raise FervizError(f"labels must be one of {', '.join(LABEL_MODES)}, "
                          f"not {values['labels']!r}")
    for root in (values.get("roots") or "").split(os.pathsep):
        if root and not Path(root).is_dir():
            raise FervizError(f"roots: {root} is not a folder")
    return Settings(**values, origin=origin)


def default_model(data: str) -> tuple[str, str | None]:
    """The zoo model to open a data set with, and a note when it is a fallback: FER-Synth's
    own model for FER-Synth, else the zoo's most accurate FER2013 model."""
    from ..app.catalog import default_model as best

    return best(synth=data == SYNTH)


def default_split(kind: str, splits: Sequence[str]) -> str:
    """The split a data set opens on: FER2013 PrivateTest, FER-Synth test, else the first."""
    for wanted in (("PrivateTest",) if kind == "fer2013" else ("test", "Test")):
        if wanted in splits:
            return wanted
    return splits[0] if splits else ""


def synth_banner() -> str:
    """The banner shown on the FER-Synth demo set (plain text with inline code)."""
    return ("This is the **FER-Synth demo set** (procedural cartoon faces) with its zoo model. "
            "To open FER2013, run `ferviz dashboard --data path/to/fer2013.csv.xz "
            "[--ferplus fer2013new.csv]`, set `FERVIZ_DATA`, or write a `ferviz.toml` with a "
            "`[dashboard]` table (see the README), or pick *FER2013 csv* in the sidebar.")
