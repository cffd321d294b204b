"""Finding, downloading and checking data files, with the standard library only.

Where files live: the ``data_dir`` argument, else the ``NNSCRATCH_DATA`` environment variable,
else the user's cache folder (``$XDG_CACHE_HOME/nnscratch``, ``~/.cache/nnscratch``, or the
platform's equivalent). A missing file is downloaded once, trying each mirror in turn, into a
temporary file that is renamed into place only after its SHA-256 checks out, so the cache never
holds a partial or wrong file. The checksum is of the decompressed bytes, which stays the same
whichever gzip produced a mirror's copy.
"""

from __future__ import annotations

import gzip
import hashlib
import os
import sys
import tempfile
import urllib.error
import urllib.request
from collections.abc import Callable, Sequence
from pathlib import Path

Progress = Callable[[str, int, int], None]
"""progress(file_name, bytes_done, bytes_total or 0 if unknown), called while downloading."""

CHUNK_BYTES = 1 << 16


class DataError(ValueError):
    """A data file that is missing, damaged, or fails its checksum."""


def data_root(data_dir: str | os.PathLike | None = None) -> Path:
    """The folder that holds the data sets: ``data_dir``, $NNSCRATCH_DATA, or the user cache."""
    if data_dir is not None:
        return Path(data_dir).expanduser()
    if os.environ.get("NNSCRATCH_DATA"):
        return Path(os.environ["NNSCRATCH_DATA"]).expanduser()
    if sys.platform == "win32":
        base = Path(os.environ.get("LOCALAPPDATA", Path.home() / "AppData" / "Local"))
        return base / "nnscratch" / "Cache"
    if sys.platform == "darwin":
        return Path.home() / "Library" / "Caches" / "nnscratch"
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "nnscratch"


def read_checked(path: Path, sha256: str) -> bytes:
    """The decompressed bytes of the gzip file ``path``, if their SHA-256 is ``sha256``."""
    try:
        data = gzip.decompress(path.read_bytes())
    except (OSError, EOFError) as error:
        raise DataError(f"{path} is not a readable gzip file ({error}). Delete it and load the "
                        "data set again to download a fresh copy.") from None
    digest = hashlib.sha256(data).hexdigest()
    if digest != sha256:
        raise DataError(f"{path} failed its checksum: the SHA-256 of its decompressed bytes is "
                        f"{digest}, expected {sha256}. The file is damaged or not the original: "
                        "delete it and load the data set again to download a fresh copy.")
    return data


def fetch(file_name: str, sha256: str, folder: Path, mirrors: Sequence[str],
          progress: Progress | None = None, timeout: float = 30.0) -> Path:
    """Download ``file_name`` into ``folder`` from the first mirror that serves a good copy."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=folder, prefix=".write-test-"):
            pass
    except OSError as error:
        raise DataError(f"Cannot write to the data folder {folder} ({error.strerror or error}). "
                        "Point NNSCRATCH_DATA (or data_dir=) at a writable folder.") from None
    failures = []
    for mirror in mirrors:
        url = mirror.rstrip("/") + "/" + file_name
        descriptor, temporary = tempfile.mkstemp(dir=folder, prefix=f".{file_name}.",
                                                 suffix=".part")
        try:
            with os.fdopen(descriptor, "wb") as file:
                _download(url, file, file_name, progress, timeout)
            read_checked(Path(temporary), sha256)
            target = folder / file_name
            os.replace(temporary, target)
            return target
        except (OSError, DataError, urllib.error.URLError, ValueError) as error:
            failures.append(f"{url}: {error}")
        finally:
            Path(temporary).unlink(missing_ok=True)
    raise DataError(f"Could not download {file_name} from any mirror:\n  " + "\n  ".join(failures)
                    + f"\nCheck the connection, or put the original file in {folder} yourself.")


def _download(url: str, file, file_name: str, progress: Progress | None, timeout: float) -> None:
    request = urllib.request.Request(url, headers={"User-Agent": "nnscratch"})
    with urllib.request.urlopen(request, timeout=timeout) as response:
        total = int(response.headers.get("Content-Length") or 0)
        done = 0
        while chunk := response.read(CHUNK_BYTES):
            file.write(chunk)
            done += len(chunk)
            if progress is not None:
                progress(file_name, done, total)
        if total and done != total:
            raise OSError(f"the connection closed after {done:,} of {total:,} bytes")
