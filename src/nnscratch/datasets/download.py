"""Finding, downloading and checking data files, with the standard library only.

Where files live: the ``data_dir`` argument, else the ``NNSCRATCH_DATA`` environment variable,
else the user's cache folder (``$XDG_CACHE_HOME/nnscratch``, ``~/.cache/nnscratch``, or the
platform's equivalent). A missing file is downloaded once, trying each mirror in turn, into a
temporary file that is renamed into place only after its SHA-256 checks out, so the cache never
holds a partial or wrong file. The checksum is of the decompressed bytes, which stays the same
whichever gzip produced a mirror's copy.
"""

from __future__ import annotations

import hashlib
import http.client
import os
import secrets
import sys
import tempfile
import time
import urllib.error
import urllib.request
import zlib
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import IO

from .._files import remove_stale_temporaries

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


def read_checked(path: Path, sha256: str, max_bytes: int) -> bytes:
    """The decompressed bytes of the gzip file ``path``, if their SHA-256 is ``sha256``.

    Decompression stops as soon as the output passes ``max_bytes`` (the known size of the
    original file), so a damaged or hostile file costs neither unbounded memory nor time; a
    flipped byte, a truncation or trailing junk is a DataError that names the file.
    """
    try:
        data = _gunzip_bounded(path, max_bytes)
    except (OSError, EOFError, zlib.error) as error:
        raise DataError(f"{path} is not a readable gzip file ({error}). Delete it and load the "
                        "data set again to download a fresh copy.") from None
    digest = hashlib.sha256(data).hexdigest()
    if digest != sha256:
        raise DataError(f"{path} failed its checksum: the SHA-256 of its decompressed bytes is "
                        f"{digest}, expected {sha256}. The file is damaged or not the original: "
                        "delete it and load the data set again to download a fresh copy.")
    return data


def _gunzip_bounded(path: Path, max_bytes: int) -> bytes:
    """gzip -d, one member after another, refusing more than ``max_bytes`` of output."""
    output = bytearray()
    decompressor, started = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS), False
    with path.open("rb") as file:
        while chunk := file.read(CHUNK_BYTES):
            while chunk:
                started = True
                output += decompressor.decompress(chunk, max_bytes + 1 - len(output))
                if len(output) > max_bytes:
                    raise DataError(f"{path} decompresses to more than the {max_bytes:,} bytes "
                                    "of the original file: it is not the original. Delete it "
                                    "and load the data set again.")
                chunk = decompressor.unconsumed_tail
                if decompressor.eof:  # a member ended; any rest is another member
                    chunk = decompressor.unused_data + chunk
                    decompressor, started = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS), False
    if started or not output:
        raise EOFError("the file ends inside its compressed data (truncated or empty)")
    return bytes(output)


def fetch(file_name: str, sha256: str, folder: Path, mirrors: Sequence[str],
          progress: Progress | None = None, timeout: float = 30.0,
          max_bytes: int = 2**31, deadline: float = 1800.0) -> Path:
    """Download ``file_name`` into ``folder`` from the first mirror that serves a good copy.

    ``max_bytes`` bounds both the download and its decompressed content (the original's size);
    ``timeout`` is the longest wait for any byte (a stalled connection) and ``deadline`` the
    longest a whole file may take. The download goes to a hidden ``.part`` file that is
    renamed into place only once its checksum passes; ``.part`` files left by killed
    processes are removed.
    """
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=folder, prefix=".write-test-"):
            pass
    except OSError as error:
        raise DataError(f"Cannot write to the data folder {folder} ({error.strerror or error}). "
                        "Point NNSCRATCH_DATA (or data_dir=) at a writable folder.") from None
    remove_stale_temporaries(folder, file_name, ".part")
    failures = []
    for mirror in mirrors:
        url = mirror.rstrip("/") + "/" + file_name
        temporary = folder / f".{file_name}.{os.getpid()}.{secrets.token_hex(4)}.part"
        try:
            with temporary.open("xb") as file:
                _download(url, file, file_name, progress, timeout, max_bytes,
                          time.monotonic() + deadline)
            read_checked(temporary, sha256, max_bytes)
            target = folder / file_name
            os.replace(temporary, target)
            return target
        except (OSError, DataError, urllib.error.URLError, ValueError,
                http.client.HTTPException) as error:
            failures.append(f"{url}: {error}")
        finally:
            temporary.unlink(missing_ok=True)
    raise DataError(f"Could not download {file_name} from any mirror:\n  " + "\n  ".join(failures)
                    + f"\nCheck the connection, or put the original file in {folder} yourself.")


def _download(url: str, file: IO[bytes], file_name: str, progress: Progress | None,
              timeout: float, max_bytes: int, deadline: float) -> None:
    request = urllib.request.Request(url, headers={"User-Agent": "nnscratch"})
    with urllib.request.urlopen(request, timeout=timeout) as response:
        total = int(response.headers.get("Content-Length") or 0)
        if total > max_bytes:
            raise OSError(f"the server offers {total:,} bytes, more than the {max_bytes:,} the "
                          "file can have")
        done = 0
        while chunk := response.read(CHUNK_BYTES):
            file.write(chunk)
            done += len(chunk)
            if done > max_bytes:
                raise OSError(f"the server sent more than the {max_bytes:,} bytes the file can "
                              "have")
            if time.monotonic() > deadline:
                raise OSError(f"the download took too long ({done:,} bytes so far)")
            if progress is not None:
                progress(file_name, done, total)
        if total and done != total:
            raise OSError(f"the connection closed after {done:,} of {total:,} bytes")
