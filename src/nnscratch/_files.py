"""Writing files so that an interruption never leaves a half-written one behind.

Every file nnscratch writes goes through ``atomic_write``: the bytes go to a temporary file
beside the target, named ``.<name>.<pid>.<random>.tmp``, which is flushed to disk and then
renamed over the target. A rename within one folder is atomic, so the target holds either its
old content or the complete new one. A process killed midway leaves its temporary file behind;
the next save of the same path removes those of processes that are no longer running.

A re-saved file keeps its permission bits; a path that is a symbolic link is written through
(the link stays, its target changes). New files get the usual mode (0o666 less the umask),
which the kernel applies when the temporary file is created, so the umask is never changed.
"""

from __future__ import annotations

import errno
import os
import secrets
import stat
from collections.abc import Callable
from pathlib import Path
from typing import IO


class WriteError(OSError):
    """A file that could not be written: the message names it, the reason and the fix."""

    def __init__(self, code: int, message: str):
        super().__init__(message)
        self.errno = code


def atomic_write(path: str | os.PathLike, write: Callable[[IO[bytes]], object],
                 check: Callable[[Path], object] | None = None) -> None:
    """Call ``write`` on a temporary file beside ``path``, then rename it over ``path``.

    ``path`` holds either its old content or the complete new one, even if the process is
    killed midway; a failed write removes the temporary file and raises WriteError.
    ``check``, if given, is called with the temporary file's path once it is complete and
    before the rename; whatever it raises stops the save and leaves ``path`` as it was.
    """
    target = Path(os.path.realpath(path))  # write through a symlink, not over it
    folder = target.parent
    if not folder.is_dir():
        raise FileNotFoundError(f"Cannot save to {str(path)!r}: the folder {str(folder)!r} "
                                "does not exist. Create it first.")
    remove_stale_temporaries(folder, target.name, ".tmp")
    temporary = folder / f".{target.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp"
    try:
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    except OSError as error:
        raise _write_error(path, error) from None
    try:
        with os.fdopen(descriptor, "wb") as file:
            write(file)
            file.flush()
            os.fsync(file.fileno())
        if check is not None:
            check(temporary)
        if target.exists():
            os.chmod(temporary, stat.S_IMODE(target.stat().st_mode))
        os.replace(temporary, target)
    except OSError as error:
        temporary.unlink(missing_ok=True)
        raise _write_error(path, error) from None
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise


def atomic_write_text(path: str | os.PathLike, text: str) -> None:
    """Write ``text`` (UTF-8) to ``path`` atomically."""
    atomic_write(path, lambda file: file.write(text.encode("utf-8")))


def remove_stale_temporaries(folder: Path, name: str, suffix: str) -> list[Path]:
    """Delete ``.<name>.<pid>.*<suffix>`` files in ``folder`` left by processes now gone."""
    removed: list[Path] = []
    try:
        candidates = list(folder.glob(f".{_glob_escape(name)}.*{suffix}"))
    except OSError:
        return removed
    for candidate in candidates:
        pid_text = candidate.name[len(name) + 2:].split(".", 1)[0]
        if pid_text.isdigit() and not process_is_running(int(pid_text)):
            try:
                candidate.unlink()
                removed.append(candidate)
            except OSError:
                pass
    return removed


def process_is_running(pid: int) -> bool:
    """Whether a process with id ``pid`` exists on this machine."""
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OverflowError, OSError):
        return True  # it exists but belongs to someone else, or we cannot tell: keep its files
    return True


def _glob_escape(name: str) -> str:
    return "".join(f"[{char}]" if char in "*?[]" else char for char in name)


def _write_error(path: str | os.PathLike, error: OSError) -> WriteError:
    reason = error.strerror or str(error)
    if error.errno == errno.ENOSPC:
        fix = "Free some space on that disk or save somewhere else."
    elif error.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        fix = "Choose a folder you can write to."
    else:
        fix = "Check the path and try again."
    return WriteError(error.errno or errno.EIO, f"Cannot write {str(path)!r}: {reason}. {fix}")
