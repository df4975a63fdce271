"""`make weights`: download the public CLIP weights Multi-DProxy uses (KNOWN_WEIGHTS), checked against their sha256.

    python -m mmc_core.encoders.fetch [--dest DIR]

A file already in DIR (default <data dir>/clip) with the expected sha256 is kept; otherwise it is downloaded (urllib,
progress bar) into a temporary file next to its destination and moved into place only if its sha256 matches. Without
network the command fails with one line naming the URL and the sha256, so that the file can be fetched elsewhere and
copied into DIR.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Sequence

from mmc_core.data.fetch import FetchError, download_to
from mmc_core.data.registry import sha256_file
from mmc_core.encoders.clip import KNOWN_WEIGHTS, KnownWeights, weights_dir
from mmc_core.io import atomic_write


def fetch_weights(known: KnownWeights, dest: Path) -> str:
    """Make dest/<file> hold `known`'s weights; 'present' or 'fetched'. FetchError or OSError if it cannot."""
    target = dest / known.filename
    if target.is_file() and sha256_file(target) == known.sha256:
        return "present"
    atomic_write(target, lambda tmp: _download_checked(known, tmp))
    return "fetched"


def _download_checked(known: KnownWeights, tmp: Path) -> None:
    with open(tmp, "wb") as out:
        download_to(known.url, out, known.filename)
    digest = sha256_file(tmp)
    if digest != known.sha256:
        raise FetchError(f"the download has sha256 {digest}")


def main(argv: Sequence[str] | None = None) -> int:
    """CLI entry point; returns the exit status (1 if a file could not be made present)."""
    parser = argparse.ArgumentParser(prog="python -m mmc_core.encoders.fetch", description=__doc__.split("\n\n")[0])
    parser.add_argument("--dest", type=Path, default=None, help="destination directory (default: <data dir>/clip)")
    args = parser.parse_args(argv)
    dest = args.dest if args.dest is not None else weights_dir()
    for name, known in KNOWN_WEIGHTS.items():
        target = dest / known.filename
        try:
            status = fetch_weights(known, dest)
        except (FetchError, OSError) as exc:
            reason = exc.__cause__ or exc  # download_to wraps the network error with the URL, which is printed anyway
            print(f"error: cannot fetch {known.url} ({reason}); download it on a machine with network, check that its "
                  f"sha256 is {known.sha256}, and put it at {target}", file=sys.stderr)
            return 1
        print(f"{name}: {status} {target} (sha256 {known.sha256}); load_encoder({known.model!r}, {str(target)!r})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
