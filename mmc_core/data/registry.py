"""The dataset registry (data/registry.yaml): parsing, name lookup, file checks and the availability listing.

The registry is the single source of every dataset fact (sizes, dims, files, sha256, public source). This module
turns it into typed entries, checks each file a loader is about to read against it (size, then sha256, with the
verified hash cached per path/size/mtime so repeated loads in one process are fast), and phrases the errors a user
sees when a file is absent or damaged.
"""

from __future__ import annotations

import difflib
import hashlib
import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

import pandas as pd
import yaml

from mmc_core import paths
from mmc_core.data.derived import derived_name, split_derived
from mmc_core.preprocessing import SCALING_METHODS

PAPERS = ("IDMC", "DDMC", "SDCIB", "Multi-DProxy", "substitute")
KINDS = ("multiview", "images")
LAYOUTS = ("cell", "keys", "per_view")
ORIENTATIONS = ("samples_first", "features_first")
CONTAINERS = ("mat-v5", "mat-v7.3", "npy")
MANIFEST_NAME = "MANIFEST.sha256"
USER_LABELS = "labels.csv"  # the labels of an image set a user supplies (loaders.load_user_images)


class DatasetUnavailable(Exception):
    """A dataset's files are not in the data directory (or the dataset has no public file at all)."""


class DataSchemaError(ValueError):
    """A file or a registry entry does not match what the registry promises (checksum, shape, labels...)."""


class UnknownDatasetError(KeyError):
    """No registry entry has this name."""

    def __str__(self) -> str:  # KeyError would repr() the message
        return str(self.args[0])


@dataclass(frozen=True)
class ArchiveSpec:
    """The file is a member of a zip archive that can be downloaded from `url`."""

    url: str
    bytes: int
    sha256: str
    member: str


@dataclass(frozen=True)
class FileSpec:
    """One registered file: where it lives under the data dir, its size and hash, and how to download it."""

    path: str
    bytes: int
    sha256: str
    url: str | None = None
    archive: ArchiveSpec | None = None


@dataclass(frozen=True)
class FormatSpec:
    """How a multi-view dataset's file(s) store its views and labels (see the field reference in registry.yaml): MAT
    files (cell / keys / per_view layouts), or NumPy .npy arrays, one per file (container npy, layout keys: `views`
    and `labels` name registered files)."""

    container: str
    layout: str
    views: str | tuple[str, ...]
    labels: str | None
    orientation: str


@dataclass(frozen=True)
class Clustering:
    """One ground-truth clustering of an image set (e.g. CMUface 'pose')."""

    clusters: int | None
    classes: tuple[str, ...] | None
    map: Mapping[str, str] | None = None


@dataclass(frozen=True)
class DatasetEntry:
    """A parsed registry entry."""

    name: str
    kind: str
    papers: tuple[str, ...]
    source: Mapping[str, str]
    samples: int | None = None
    clusters: int | None = None
    dims: tuple[int, ...] | None = None
    view_names: tuple[str, ...] | None = None
    files: tuple[FileSpec, ...] = ()
    format: FormatSpec | None = None
    subset_of: str | None = None
    views: tuple[str, ...] | None = None
    paper_samples: int | None = None
    fetch_by_default: bool = True
    scaling: str | None = None
    bag_of_words: bool = False  # every view a bag of words (selection.is_bag_of_words; a test checks it on the data)
    directory: str | None = None
    clusterings: Mapping[str, Clustering] = field(default_factory=dict)
    notes: tuple[str, ...] = ()

    @property
    def substitute(self) -> bool:
        """True for the staged stand-ins that no paper uses."""
        return "substitute" in self.papers

    def __getitem__(self, key: str) -> Any:
        """Mapping-style access to the same fields (entry["dims"]), as for the YAML entry itself."""
        if key not in _ENTRY_KEYS:
            raise KeyError(key)
        return getattr(self, key)

    def get(self, key: str, default: Any = None) -> Any:
        """Like dict.get: the field's value, or `default` when the field is unknown or unset (None)."""
        value = self[key] if key in _ENTRY_KEYS else None
        return default if value is None else value


_ENTRY_KEYS = {f for f in DatasetEntry.__dataclass_fields__}
_FILE_KEYS = {"path", "bytes", "sha256", "url", "archive"}
_SHA_RE = re.compile(r"^[0-9a-f]{64}$")

_REGISTRY_CACHE: dict[tuple[str, int, int], dict[str, DatasetEntry]] = {}
_HASH_CACHE: dict[tuple[str, int, int], str] = {}


# ----------------------------------------------------------------------------------------------- parsing


def _bad(where: str, what: str) -> DataSchemaError:
    return DataSchemaError(f"data/registry.yaml, {where}: {what}. Fix the registry entry.")


def _sha(value: Any, where: str) -> str:
    if not isinstance(value, str) or not _SHA_RE.match(value):
        raise _bad(where, f"sha256 must be 64 lower-case hex digits, got {value!r}")
    return value


def _parse_file(raw: Mapping[str, Any], where: str) -> FileSpec:
    unknown = set(raw) - _FILE_KEYS
    if unknown or "path" not in raw:
        raise _bad(where, f"a file needs path/bytes/sha256 (unknown keys: {sorted(unknown)})")
    archive = raw.get("archive")
    if archive is not None:
        archive = ArchiveSpec(
            url=str(archive["url"]), bytes=int(archive["bytes"]),
            sha256=_sha(archive["sha256"], where + " archive"), member=str(archive["member"]),
        )
    return FileSpec(path=str(raw["path"]), bytes=int(raw["bytes"]), sha256=_sha(raw.get("sha256"), where),
                    url=raw.get("url"), archive=archive)


def _parse_format(raw: Mapping[str, Any], where: str) -> FormatSpec:
    fmt = FormatSpec(
        container=raw.get("container", "mat-v5"),
        layout=raw.get("layout", "cell"),
        views=tuple(raw["views"]) if isinstance(raw.get("views"), list) else raw.get("views", "X"),
        labels=raw.get("labels"),
        orientation=raw.get("orientation", "samples_first"),
    )
    for value, allowed, key in ((fmt.container, CONTAINERS, "container"), (fmt.layout, LAYOUTS, "layout"),
                                (fmt.orientation, ORIENTATIONS, "orientation")):
        if value not in allowed:
            raise _bad(where, f"format.{key} must be one of {allowed}, got {value!r}")
    if (fmt.layout == "keys") != isinstance(fmt.views, tuple):
        raise _bad(where, "format.views is a list of variables exactly when layout is 'keys'")
    return fmt


def _check_npy_format(fmt: FormatSpec, files: tuple[FileSpec, ...], dims: Any, where: str) -> None:
    """A set of .npy arrays: layout keys, `views` the registered files holding the views (in view order, one per
    dim), `labels` the registered file holding the labels, and no other file."""
    registered = [f.path for f in files]
    if fmt.layout != "keys" or not isinstance(fmt.views, tuple) or not fmt.labels:
        raise _bad(where, "container npy needs layout keys, views = the files of the views and labels = the label "
                          "file (paths among `files`)")
    named = [*fmt.views, fmt.labels]
    if sorted(named) != sorted(registered):
        raise _bad(where, f"container npy: views and labels must name every registered file exactly once "
                          f"(named {named}, registered {registered})")
    if dims is not None and len(dims) != len(fmt.views):
        raise _bad(where, f"container npy: {len(fmt.views)} view files for {len(dims)} dims")


def _parse_entry(raw: Mapping[str, Any]) -> DatasetEntry:
    name = raw.get("name")
    where = f"entry {name!r}"
    unknown = set(raw) - _ENTRY_KEYS
    if unknown:
        raise _bad(where, f"unknown keys {sorted(unknown)}")
    for key in ("name", "kind", "papers", "source"):
        if key not in raw:
            raise _bad(where, f"missing required key {key!r}")
    kind, papers = raw["kind"], tuple(raw["papers"])
    if kind not in KINDS:
        raise _bad(where, f"kind must be one of {KINDS}, got {kind!r}")
    if set(papers) - set(PAPERS):
        raise _bad(where, f"papers must be among {PAPERS}, got {list(papers)}")
    files = tuple(_parse_file(f, f"{where} file {i}") for i, f in enumerate(raw.get("files") or []))
    fmt = _parse_format(raw["format"], where) if raw.get("format") else None
    scaling = raw.get("scaling")
    if kind == "multiview":
        if scaling not in SCALING_METHODS:
            raise _bad(where, f"scaling must be one of {SCALING_METHODS} (mmc_core.preprocessing), got {scaling!r}")
        for key in ("samples", "clusters"):
            if not isinstance(raw.get(key), int):
                raise _bad(where, f"{key} must be an integer")
        if files and (fmt is None or raw.get("dims") is None):
            raise _bad(where, "an entry with files needs format and dims")
        if fmt is not None and fmt.layout == "per_view" and raw.get("dims") and len(files) != len(raw["dims"]):
            raise _bad(where, "layout per_view needs one file per view")
        if fmt is not None and fmt.container == "npy":
            _check_npy_format(fmt, files, raw.get("dims"), where)
    if kind == "images" and raw.get("directory") is None:
        raise _bad(where, "an image set needs `directory`")
    if kind == "images" and files and [f.path for f in files] != [f"{raw['directory']}/{MANIFEST_NAME}"]:
        raise _bad(where, f"an image set registers exactly one file, {raw['directory']}/{MANIFEST_NAME}")
    clusterings = {
        key: Clustering(clusters=c.get("clusters"), classes=tuple(c["classes"]) if c.get("classes") else None,
                        map=c.get("map"))
        for key, c in (raw.get("clusterings") or {}).items()
    }
    dims = tuple(int(d) for d in raw["dims"]) if raw.get("dims") else None
    view_names = tuple(raw["view_names"]) if raw.get("view_names") else None
    if dims and view_names and len(dims) != len(view_names):
        raise _bad(where, "view_names and dims have different lengths")
    return DatasetEntry(
        name=name, kind=kind, papers=papers, source=dict(raw["source"]), samples=raw.get("samples"),
        clusters=raw.get("clusters"), dims=dims, view_names=view_names, files=files, format=fmt,
        subset_of=raw.get("subset_of"), views=tuple(raw["views"]) if raw.get("views") else None,
        paper_samples=raw.get("paper_samples"), fetch_by_default=bool(raw.get("fetch_by_default", True)),
        scaling=scaling, bag_of_words=bool(raw.get("bag_of_words", False)), directory=raw.get("directory"), clusterings=clusterings, notes=tuple(raw.get("notes") or ()),
    )


def parent_view_indices(entry: DatasetEntry, parent: DatasetEntry) -> list[int]:
    """0-based indices of a subset's views (named X1..XV, 1-based as in the MFLVC files) in its parent."""
    n_parent = len(parent.dims or ())
    indices = []
    for view in entry.views or ():
        match = re.fullmatch(r"X(\d+)", view)
        if not match or not 1 <= int(match.group(1)) <= n_parent:
            raise _bad(f"entry {entry.name!r}", f"view {view!r} is not one of X1..X{n_parent} of {parent.name}")
        indices.append(int(match.group(1)) - 1)
    return indices


def _check_subsets(entries: Mapping[str, DatasetEntry]) -> None:
    for entry in entries.values():
        if entry.subset_of is None:
            continue
        parent = entries.get(entry.subset_of)
        if parent is None or parent.subset_of is not None or not entry.views:
            raise _bad(f"entry {entry.name!r}", f"subset_of must name a non-subset entry and list views "
                                                f"(got {entry.subset_of!r})")
        idx = parent_view_indices(entry, parent)
        if entry.dims != tuple(parent.dims[i] for i in idx):
            raise _bad(f"entry {entry.name!r}", f"dims {entry.dims} differ from {parent.name}'s views {entry.views}")


def load_registry(path: str | os.PathLike | None = None) -> dict[str, DatasetEntry]:
    """Parse the registry (default: paths.REGISTRY_FILE), cached per path, size and mtime."""
    path = Path(path) if path is not None else Path(paths.REGISTRY_FILE)
    try:
        stat = path.stat()
    except FileNotFoundError as exc:
        raise DataSchemaError(f"dataset registry {path} not found; it ships with the project (data/registry.yaml)") \
            from exc
    key = (str(path.resolve()), stat.st_size, stat.st_mtime_ns)
    if key not in _REGISTRY_CACHE:
        try:
            doc = yaml.safe_load(path.read_text(encoding="utf-8"))
        except yaml.YAMLError as exc:
            raise DataSchemaError(f"dataset registry {path} is not valid YAML: {exc}") from exc
        if not isinstance(doc, dict) or not isinstance(doc.get("datasets"), list):
            raise DataSchemaError(f"dataset registry {path} must hold a top-level `datasets:` list")
        entries: dict[str, DatasetEntry] = {}
        for raw in doc["datasets"]:
            entry = _parse_entry(raw)
            if entry.name.lower() in {n.lower() for n in entries}:
                raise _bad(f"entry {entry.name!r}", "duplicate name (names are case-insensitive)")
            entries[entry.name] = entry
        _check_subsets(entries)
        _REGISTRY_CACHE.clear()  # keep only the current version of the file
        _REGISTRY_CACHE[key] = entries
    return _REGISTRY_CACHE[key]


def _normalise(name: str) -> str:
    return re.sub(r"[^0-9a-z]", "", name.lower())


def canonical_name(name: str) -> str:
    """The registry's spelling of `name` (case-insensitive; '-', '_' and spaces are ignored when unambiguous), so
    "event" and "Event" name one dataset everywhere (cache paths, reported cells); unknown names raise
    UnknownDatasetError with the close matches."""
    if not isinstance(name, str):
        raise TypeError(f"a dataset name is a string such as 'Event', got {name!r}")
    base, share = split_derived(name)
    if share is not None:
        return derived_name(canonical_name(base), share)
    entries = load_registry()
    by_lower = {n.lower(): n for n in entries}
    if name.lower() in by_lower:
        return by_lower[name.lower()]
    loose = [n for n in entries if _normalise(n) == _normalise(name)]
    if len(loose) == 1:
        return loose[0]
    close = difflib.get_close_matches(name.lower(), list(by_lower), n=3, cutoff=0.5)
    hint = f" Did you mean {', '.join(by_lower[c] for c in close)}?" if close else ""
    raise UnknownDatasetError(f"unknown dataset {name!r}.{hint} Available: {', '.join(entries)}.")


def get_entry(name: str) -> DatasetEntry:
    """The registry entry for `name`, spelled in any way canonical_name accepts (a derived dataset: its base's)."""
    return load_registry()[split_derived(canonical_name(name))[0]]


# ----------------------------------------------------------------------------------------------- files


def sha256_file(path: str | os.PathLike) -> str:
    """sha256 of a file, cached in memory per (path, size, mtime) so a second check of an unchanged file is free."""
    stat = os.stat(path)
    key = (os.path.abspath(path), stat.st_size, stat.st_mtime_ns)
    if key not in _HASH_CACHE:
        digest = hashlib.sha256()
        with open(path, "rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
        _HASH_CACHE[key] = digest.hexdigest()
    return _HASH_CACHE[key]


def fetch_hint(name: str) -> str:
    """The commands that (re-)fetch a dataset, for error messages."""
    return f"`make data DATA_MIRROR=<dir with the data/raw layout>` or `python -m mmc_core.data.fetch {name}`"


def _repo_ref(entry: DatasetEntry, full_commit: bool = True) -> str:
    src = entry.source
    if not src.get("repo"):
        return ""
    commit = src.get("commit", "")
    commit = f" @ {commit if full_commit else commit[:12]}" if commit else ""
    return f"github.com/{src['repo']} {src.get('path', '')}".strip() + commit


def describe_source(entry: DatasetEntry) -> str:
    """Where the data is public (repo, path, commit) and how to obtain it, in one line."""
    parts = [_repo_ref(entry)] if entry.source.get("repo") else []
    if entry.source.get("how"):
        parts.append(" ".join(str(entry.source["how"]).split()))
    return "; ".join(parts) if parts else "no public source recorded"


def how_to_obtain(entry: DatasetEntry) -> str:
    """What a user runs (or asks for) to get this dataset, short enough for a table cell."""
    if entry.subset_of is not None:
        return f"view subset of {entry.subset_of}: " + how_to_obtain(get_entry(entry.subset_of))
    if not entry.files:
        return describe_source(entry)
    if any(f.url or f.archive for f in entry.files):
        route = f"python -m mmc_core.data.fetch {entry.name} (downloads), or make data DATA_MIRROR=<dir>"
    else:
        route = "make data DATA_MIRROR=<dir> (copied from a mirror only)"
    return f"{route}; source: {_repo_ref(entry, full_commit=False)}"


def unavailable(entry: DatasetEntry, missing: Path | None) -> DatasetUnavailable:
    """The error for a dataset whose file is absent (or that has no public file)."""
    if missing is None:
        return DatasetUnavailable(f"Dataset {entry.name!r} has no data file registered here. "
                                  f"How to obtain: {describe_source(entry)}")
    source = describe_source(entry).rstrip(".")
    return DatasetUnavailable(
        f"Dataset {entry.name!r} is not available: missing file {missing}. Source: {source}. "
        f"Fix: run {fetch_hint(entry.name)}, or place the file at {missing}."
    )


def check_file(entry: DatasetEntry, spec: FileSpec, data_dir: Path) -> Path:
    """Path of a registered file after checking it exists and has the registered size and sha256."""
    path = data_dir / spec.path
    if not path.is_file():
        raise unavailable(entry, path)
    size = path.stat().st_size
    refetch = f"Re-fetch it with {fetch_hint(entry.name)}."
    if size != spec.bytes:
        state = "the file is truncated" if size < spec.bytes else "the file is larger than registered"
        raise DataSchemaError(f"{entry.name}: {path} has {size} bytes, the registry says {spec.bytes}: "
                              f"{state}. {refetch}")
    actual = sha256_file(path)
    if actual != spec.sha256:
        raise DataSchemaError(f"{entry.name}: sha256 mismatch for {path}: got {actual}, the registry says "
                              f"{spec.sha256} (file corrupted or a different version). {refetch}")
    return path


def is_available(entry: DatasetEntry, data_dir: Path) -> bool:
    """True when every registered file is present (presence only: nothing is hashed); for an image set with no
    public file, when the user's folder holds its manifest and labels (loaders.load_user_images)."""
    if entry.subset_of is not None:
        return is_available(get_entry(entry.subset_of), data_dir)
    if entry.kind == "images" and not entry.files and entry.directory:
        return all((data_dir / str(entry.directory) / name).is_file() for name in (MANIFEST_NAME, USER_LABELS))
    return bool(entry.files) and all((data_dir / f.path).is_file() for f in entry.files)


def list_datasets(data_dir: str | os.PathLike | None = None) -> pd.DataFrame:
    """One row per registry entry: name, kind, papers, size, dims, availability here and how to obtain it."""
    root = paths.data_dir(data_dir)
    rows = []
    for entry in load_registry().values():
        rows.append({
            "name": entry.name,
            "kind": entry.kind,
            "papers": ", ".join(entry.papers),
            "samples": entry.samples,
            "clusters": entry.clusters,
            "clusterings": ", ".join(f"{k}:{c.clusters if c.clusters is not None else '?'}"
                                     for k, c in entry.clusterings.items()),
            "dims": "/".join(map(str, entry.dims)) if entry.dims else "",
            "available": is_available(entry, root),
            "substitute": entry.substitute,
            "how_to_obtain": how_to_obtain(entry),
        })
    frame = pd.DataFrame(rows)
    return frame.astype({"samples": "Int64", "clusters": "Int64"})
