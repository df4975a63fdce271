"""`make data`: put every obtainable registered dataset into the data directory, verified.

    python -m mmc_core.data.fetch [--mirror DIR] [--data-dir DIR] [--no-download] [--all] [names...]

For each registry entry with files: a file already present with the registered sha256 is kept; otherwise it is
copied from the mirror (a directory with the same relative layout as the data dir, e.g. a copy of the project's
staged data/raw), else downloaded from the registry's direct URL (GitHub raw at a commit, the Git LFS media URL,
or a zip archive holding the file). Every file is written to a temporary name in its destination directory,
checked (size and sha256) and only then moved into place with os.replace, so an interrupted or corrupted
transfer never leaves a half-written file under the real name (the `.part` temporaries an interrupted fetch
leaves are removed, and listed in its summary, when that dataset is fetched next). Image sets are copied as a whole
directory from the mirror and verified against their MANIFEST.sha256 before the directory is swapped in.

Exit status 0 when every obtainable dataset is present; datasets with no public file are listed with how to
obtain them, and entries marked `fetch_by_default: false` (Caltech-5V, a 39.5 MB download) are fetched only when
named or with --all.
"""

from __future__ import annotations

import argparse
import glob
import os
import shutil
import sys
import tempfile
import urllib.request
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO, Callable, Sequence

from tqdm import tqdm

from mmc_core import paths
from mmc_core.data.loaders import verify_manifest_dir
from mmc_core.data.registry import (
    DatasetEntry, DatasetUnavailable, DataSchemaError, FileSpec, check_file, get_entry, how_to_obtain,
    load_registry, sha256_file,
)

DOWNLOAD_TIMEOUT_S = 60
CHUNK = 1 << 20


@dataclass(frozen=True)
class FetchResult:
    """What happened to one dataset: present | fetched | absent | skipped | failed, and why."""

    name: str
    status: str
    detail: str


class FetchError(Exception):
    """A file could not be obtained from any route (the message lists each route's reason)."""


def _progress(total: int | None, label: str) -> tqdm:
    return tqdm(total=total, unit="B", unit_scale=True, desc=label, leave=False, disable=None)


def _stream(source: BinaryIO, out: BinaryIO, total: int | None, label: str) -> None:
    with _progress(total, label) as bar:
        for block in iter(lambda: source.read(CHUNK), b""):
            out.write(block)
            bar.update(len(block))


def _install(dest: Path, spec_bytes: int, spec_sha256: str, write: Callable[[BinaryIO], None]) -> None:
    """Write to a temp file next to `dest`, check size and sha256, then os.replace it into place (atomic)."""
    created = not dest.parent.exists()
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(dir=dest.parent, prefix=f".{dest.name}.", suffix=".part")
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as out:
            write(out)
        size = tmp.stat().st_size
        if size != spec_bytes:
            raise FetchError(f"got {size} bytes, the registry says {spec_bytes}")
        digest = sha256_file(tmp)
        if digest != spec_sha256:
            raise FetchError(f"sha256 {digest} differs from the registry's {spec_sha256}")
        os.chmod(tmp, 0o644)
        os.replace(tmp, dest)
    finally:
        tmp.unlink(missing_ok=True)
        if created and not dest.exists() and not any(dest.parent.iterdir()):
            dest.parent.rmdir()  # leave no empty directory behind a failed first fetch


def download_to(url: str, out: BinaryIO, label: str) -> None:
    """Write what `url` serves into `out`, with a progress bar labelled `label`; a network failure is a FetchError
    naming the URL. Shared with `make weights` (mmc_core.encoders.fetch)."""
    try:
        with urllib.request.urlopen(url, timeout=DOWNLOAD_TIMEOUT_S) as response:
            length = response.headers.get("Content-Length")
            _stream(response, out, int(length) if length else None, label)
    except OSError as exc:  # URLError, HTTPError, timeouts are all OSError
        raise FetchError(f"{url}: {exc}") from exc


class _ArchiveCache:
    """Zip archives downloaded (and verified) once per run, deleted when the run ends."""

    def __init__(self) -> None:
        self._dir: Path | None = None
        self._files: dict[str, Path] = {}

    def get(self, url: str, size: int, sha256: str) -> Path:
        if url not in self._files:
            if self._dir is None:
                self._dir = Path(tempfile.mkdtemp(prefix="mmc-fetch-"))
            path = self._dir / f"archive{len(self._files)}.zip"
            _install(path, size, sha256, lambda out: download_to(url, out, Path(url).name))
            self._files[url] = path
        return self._files[url]

    def close(self) -> None:
        if self._dir is not None:
            shutil.rmtree(self._dir, ignore_errors=True)


def _routes(spec: FileSpec, mirror: Path | None, download: bool,
            archives: _ArchiveCache) -> list[tuple[str, Callable[[BinaryIO], None]]]:
    """(route name, writer) for each way this file can be obtained, in the order they are tried."""
    routes: list[tuple[str, Callable[[BinaryIO], None]]] = []
    label = Path(spec.path).name
    if mirror is not None and (mirror / spec.path).is_file():
        source = mirror / spec.path

        def copy(out: BinaryIO) -> None:
            with open(source, "rb") as handle:
                _stream(handle, out, source.stat().st_size, label)
        routes.append((f"mirror {mirror}", copy))
    if download and spec.url:
        routes.append(("download", lambda out: download_to(spec.url, out, label)))
    if download and spec.archive:
        arc = spec.archive

        def extract(out: BinaryIO) -> None:
            zip_path = archives.get(arc.url, arc.bytes, arc.sha256)
            try:
                with zipfile.ZipFile(zip_path) as zf, zf.open(arc.member) as member:
                    _stream(member, out, zf.getinfo(arc.member).file_size, label)
            except (KeyError, zipfile.BadZipFile) as exc:
                raise FetchError(f"cannot extract {arc.member} from {arc.url}: {exc}") from exc
        routes.append(("zip archive download", extract))
    return routes


def _ensure_file(entry: DatasetEntry, spec: FileSpec, root: Path, mirror: Path | None, download: bool,
                 archives: _ArchiveCache) -> str | None:
    """None if the file is already present and verified, else the route it was fetched by; FetchError on failure."""
    try:
        check_file(entry, spec, root)
        return None
    except (DatasetUnavailable, DataSchemaError):
        pass
    routes = _routes(spec, mirror, download, archives)
    if not routes:
        raise FetchError(f"{spec.path}: not in the mirror ({mirror or 'none given'}) and no download "
                         f"{'URL' if download else 'allowed (--no-download)'}")
    reasons = []
    for route, write in routes:
        try:
            _install(root / spec.path, spec.bytes, spec.sha256, write)
            return route
        except (FetchError, OSError) as exc:
            refused = " (corrupted mirror file refused)" if route.startswith("mirror") else ""
            reasons.append(f"{route}: {exc}{refused}")
    raise FetchError(f"{spec.path}: " + "; ".join(reasons))


def _force_rmtree(path: Path) -> None:
    def retry(func: Callable[[str], None], target: str, _exc: object) -> None:
        os.chmod(os.path.dirname(target), 0o755)
        os.chmod(target, 0o755)
        func(target)
    shutil.rmtree(path, onerror=retry)


def _copy_tree(source: Path, dest: Path, label: str) -> None:
    """Copy every file under `source` into `dest` (contents only: permissions are not copied)."""
    files = [Path(d) / f for d, _, names in os.walk(source) for f in names]
    for path in tqdm(files, desc=label, unit="file", leave=False, disable=None):
        target = dest / path.relative_to(source)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, target)


def _ensure_images(entry: DatasetEntry, root: Path, mirror: Path | None) -> str | None:
    """None if the image set is present and verified, else the mirror it was copied from; FetchError on failure."""
    dest = root / str(entry.directory)
    if dest.is_dir():
        try:
            verify_manifest_dir(entry, dest)
            return None
        except (DatasetUnavailable, DataSchemaError):
            pass
    source = mirror / str(entry.directory) if mirror is not None else None
    if source is None or not source.is_dir():
        raise FetchError(f"image set directory {entry.directory}/ is not in the mirror ({mirror or 'none given'}); "
                         f"image sets are copied from a mirror only")
    root.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=root, prefix=f".{entry.directory}.", suffix=".part"))
    os.chmod(tmp, 0o755)  # mkdtemp makes it private; the installed directory should not be
    try:
        _copy_tree(source, tmp, entry.name)
        try:
            verify_manifest_dir(entry, tmp)
        except (DatasetUnavailable, DataSchemaError) as exc:
            raise FetchError(f"mirror copy refused: {exc}") from exc
        if dest.exists():
            old = Path(tempfile.mkdtemp(dir=root, prefix=f".{entry.directory}.", suffix=".old"))
            os.replace(dest, old / "stale")
            os.replace(tmp, dest)
            _force_rmtree(old)
        else:
            os.replace(tmp, dest)
    finally:
        if tmp.exists():
            _force_rmtree(tmp)
    return f"mirror {mirror}"


def _remove_stale_parts(entry: DatasetEntry, root: Path) -> list[Path]:
    """Remove what an interrupted fetch of this entry left behind: its own `.<name>.*.part` temporary files (next to
    each registered file) or directories (an image set's copy); return them."""
    if entry.kind == "images":
        places = [(root, str(entry.directory))]
    else:
        places = [((root / spec.path).parent, Path(spec.path).name) for spec in entry.files]
    stale = [path for folder, name in places for path in folder.glob(f".{glob.escape(name)}.*.part")]
    for path in stale:
        if path.is_dir():
            _force_rmtree(path)
        else:
            path.unlink()
    return stale


def _fetch_entry(entry: DatasetEntry, root: Path, mirror: Path | None, download: bool,
                 archives: _ArchiveCache) -> FetchResult:
    stale = _remove_stale_parts(entry, root)
    cleaned = (f"; removed {len(stale)} leftover(s) of an interrupted fetch: {', '.join(p.name for p in stale)}"
               if stale else "")
    try:
        if entry.kind == "images":
            routes = [_ensure_images(entry, root, mirror)]
        else:
            routes = [_ensure_file(entry, spec, root, mirror, download, archives) for spec in entry.files]
    except FetchError as exc:
        return FetchResult(entry.name, "failed", f"{exc}. How to obtain: {how_to_obtain(entry)}{cleaned}")
    fetched = [r for r in routes if r is not None]
    if not fetched:
        return FetchResult(entry.name, "present", f"verified (sha256){cleaned}")
    what = "directory" if entry.kind == "images" else f"{len(fetched)} file(s)"
    return FetchResult(entry.name, "fetched",
                       f"{what} from {', '.join(sorted(set(fetched)))}, verified (sha256){cleaned}")


def _selected(names: Sequence[str]) -> list[DatasetEntry]:
    """Entries named on the command line (a view subset selects its parent), duplicates removed."""
    out: list[DatasetEntry] = []
    for name in names:
        entry = get_entry(name)
        entry = get_entry(entry.subset_of) if entry.subset_of else entry
        if entry not in out:
            out.append(entry)
    return out


def fetch(names: Sequence[str] = (), mirror: str | os.PathLike | None = None,
          data_dir: str | os.PathLike | None = None, download: bool = True,
          include_all: bool = False) -> list[FetchResult]:
    """Make the named datasets (default: every entry fetched by default) present and verified in the data dir."""
    root = paths.data_dir(data_dir)
    mirror_path = Path(mirror) if mirror is not None else None
    if mirror_path is not None and not mirror_path.is_dir():
        raise FileNotFoundError(f"mirror directory {mirror_path} does not exist")
    explicit = bool(names)
    entries = _selected(names) if explicit else [e for e in load_registry().values() if e.subset_of is None]
    archives = _ArchiveCache()
    results = []
    try:
        for entry in entries:
            if not entry.files:
                results.append(FetchResult(entry.name, "absent", how_to_obtain(entry)))
            elif not (explicit or include_all or entry.fetch_by_default):
                present = all(_is_verified(entry, spec, root) for spec in entry.files)
                results.append(FetchResult(entry.name, "present" if present else "skipped",
                                           "verified (sha256)" if present else
                                           f"fetched only on request: python -m mmc_core.data.fetch {entry.name}"))
            else:
                results.append(_fetch_entry(entry, root, mirror_path, download, archives))
    finally:
        archives.close()
    return results


def _is_verified(entry: DatasetEntry, spec: FileSpec, root: Path) -> bool:
    try:
        check_file(entry, spec, root)
        return True
    except (DatasetUnavailable, DataSchemaError):
        return False


def summary(results: Sequence[FetchResult]) -> str:
    """The table printed at the end of `make data`."""
    width = max([len(r.name) for r in results] + [7])
    lines = [f"{'dataset':<{width}}  {'status':<8}  detail"]
    lines += [f"{r.name:<{width}}  {r.status:<8}  {r.detail}" for r in results]
    counts = {s: sum(r.status == s for r in results) for s in ("fetched", "present", "skipped", "absent", "failed")}
    lines.append(f"{counts['fetched']} fetched, {counts['present']} already present, {counts['skipped']} skipped "
                 f"(on request), {counts['absent']} absent (no public file: see how to obtain), "
                 f"{counts['failed']} failed")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    """CLI entry point; returns the exit status (1 if an obtainable dataset could not be made present)."""
    parser = argparse.ArgumentParser(prog="python -m mmc_core.data.fetch", description=__doc__.split("\n\n")[0])
    parser.add_argument("names", nargs="*", help="datasets to fetch (default: all fetched by default)")
    parser.add_argument("--mirror", help="directory with the data/raw layout to copy from (e.g. a staged copy)")
    parser.add_argument("--data-dir", help="destination (default: $MMC_DATA_DIR, else <project>/data/raw)")
    parser.add_argument("--no-download", action="store_true", help="never use the network")
    parser.add_argument("--all", action="store_true", help="also fetch entries marked fetch_by_default: false")
    args = parser.parse_args(argv)
    try:
        results = fetch(args.names, mirror=args.mirror, data_dir=args.data_dir, download=not args.no_download,
                        include_all=args.all)
    except (KeyError, FileNotFoundError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"data directory: {paths.data_dir(args.data_dir)}")
    print(summary(results))
    return 1 if any(r.status == "failed" for r in results) else 0


if __name__ == "__main__":
    sys.exit(main())
