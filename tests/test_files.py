"""Atomic writes (_files.py): temporary files cleaned up, permissions kept, symlinks followed,
failures that name the file and leave the old content."""

from __future__ import annotations

import errno
import os
import stat
import subprocess
import sys
import textwrap

import pytest

from nnscratch._files import WriteError, atomic_write, atomic_write_text


def dead_pid() -> int:
    """The id of a process that has just exited."""
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid


def test_promise_temporaries_of_killed_saves_are_removed_by_the_next_save(tmp_path):
    target = tmp_path / "model.npz"
    stale = [tmp_path / f".model.npz.{dead_pid()}.{index:08x}.tmp" for index in range(3)]
    alive = tmp_path / f".model.npz.{os.getppid()}.00000000.tmp"  # a live process's save
    for path in [*stale, alive]:
        path.write_bytes(b"x" * 1000)
    other = tmp_path / f".other.npz.{dead_pid()}.00000000.tmp"
    other.write_bytes(b"x")
    atomic_write_text(target, "new")
    assert target.read_text() == "new"
    assert not any(path.exists() for path in stale)
    assert alive.exists() and other.exists()  # only this path's, only of dead processes
    assert sorted(path.name for path in tmp_path.iterdir()) == sorted(
        [target.name, alive.name, other.name])


def test_promise_resaving_keeps_the_permission_bits(tmp_path):
    target = tmp_path / "model.npz"
    atomic_write_text(target, "one")
    os.chmod(target, 0o640)
    atomic_write_text(target, "two")
    assert stat.S_IMODE(target.stat().st_mode) == 0o640 and target.read_text() == "two"


def test_promise_a_symlink_is_written_through_not_replaced(tmp_path):
    real = tmp_path / "store" / "model.npz"
    real.parent.mkdir()
    real.write_text("old")
    link = tmp_path / "model.npz"
    link.symlink_to(real)
    atomic_write_text(link, "new")
    assert link.is_symlink() and real.read_text() == "new"


def test_promise_new_files_follow_the_umask_which_is_never_changed(tmp_path):
    script = textwrap.dedent(f"""
        import os, stat, threading
        from nnscratch._files import atomic_write_text
        os.umask(0o027)
        seen = []
        def watch():  # another thread reads the umask while saves run: it must never change
            for _ in range(2000):
                seen.append(open("/proc/self/status").read().split("Umask:")[1].split()[0])
        thread = threading.Thread(target=watch)
        thread.start()
        for index in range(50):
            atomic_write_text({str(tmp_path)!r} + f"/file{{index}}", "x")
        thread.join()
        print(oct(stat.S_IMODE(os.stat({str(tmp_path)!r} + "/file0").st_mode)), set(seen))
    """)
    output = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                            check=True).stdout.split()
    assert output[0] == "0o640"
    assert "".join(output[1:]) == "{'0027'}"


def test_promise_a_failed_write_names_the_file_keeps_the_old_one_and_leaves_no_temporary(
        tmp_path):
    target = tmp_path / "model.npz"
    target.write_text("old")

    def full_disk(file):
        file.write(b"partial")
        raise OSError(errno.ENOSPC, "No space left on device")

    with pytest.raises(WriteError, match=r"Cannot write .*model\.npz.*No space left.*Free"):
        atomic_write(target, full_disk)
    assert target.read_text() == "old"
    assert [path.name for path in tmp_path.iterdir()] == ["model.npz"]


def test_promise_a_failed_check_stops_the_rename(tmp_path):
    target = tmp_path / "model.npz"
    target.write_text("old")

    def refuse(path):
        assert path.read_bytes() == b"new" and path != target
        raise ValueError("refused")

    with pytest.raises(ValueError, match="refused"):
        atomic_write(target, lambda file: file.write(b"new"), check=refuse)
    assert target.read_text() == "old" and len(list(tmp_path.iterdir())) == 1
