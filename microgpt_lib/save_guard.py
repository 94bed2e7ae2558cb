"""What keeps a run's `--save PATH` safe: one run at a time, no unfinished run overwritten, no debris.

- `SaveLock(path)`: a lock on `PATH.lock` that the operating system releases when the process ends,
  however it ends (fcntl on Linux and macOS, msvcrt on Windows): a second run with the same --save
  refuses while the first runs, and a run killed with SIGKILL leaves nothing stuck behind it.
- `check_overwrite`: a checkpoint that an unfinished run can still resume is not replaced by another run.
- `remove_stale_temporaries`: the `NAME.json.*.tmp` a save killed half way left behind (saves write a
  temporary file, then rename it over the checkpoint, so a checkpoint itself is never half written).
"""
import json
import os
import pathlib
import sys


def lock_path(path):
    return pathlib.Path(f"{path}.lock")


def _try_lock(fd):
    """Take the lock on the open file `fd` without waiting; OSError if another process holds it."""
    if sys.platform == "win32":
        import msvcrt

        os.lseek(fd, 0, os.SEEK_SET)
        msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
    else:
        import fcntl

        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)


class SaveLock:
    """`with SaveLock(path):` holds the lock of a --save path; ValueError at once if another run holds it."""

    def __init__(self, path):
        self.path, self.lock_path, self.fd = str(path), lock_path(path), None

    def __enter__(self):
        while True:
            fd = os.open(self.lock_path, os.O_RDWR | os.O_CREAT | getattr(os, "O_BINARY", 0), 0o666)
            try:
                _try_lock(fd)
            except OSError:
                holder = self._holder(fd)
                os.close(fd)
                raise ValueError(f"another run{holder} is saving to {self.path!r} now; wait for it to end, "
                                 "or give another --save path") from None
            # a run that ends removes its lock file: make sure ours is still the one at lock_path
            try:
                if os.path.samestat(os.fstat(fd), os.stat(self.lock_path)):
                    break
            except OSError:
                pass
            os.close(fd)
        os.ftruncate(fd, 0)  # a killed run's process id may still be in it
        os.lseek(fd, 1, os.SEEK_SET)  # byte 0 is the one Windows locks; the process id goes after it
        os.write(fd, f"{os.getpid()}\n".encode("ascii"))
        self.fd = fd
        return self

    def _holder(self, fd):
        try:
            os.lseek(fd, 1, os.SEEK_SET)
            pid = (os.read(fd, 32).decode("ascii").split() or [""])[0]
        except (OSError, UnicodeDecodeError):
            return ""
        return f" (process {pid})" if pid.isdigit() else ""

    def __exit__(self, *exc):
        # POSIX: remove the file while still holding its lock, so no other run locks it in between. Windows
        # removes no file that another process holds open, so there the lock is released first.
        if sys.platform == "win32":
            os.close(self.fd)
        try:
            os.unlink(self.lock_path)
        except OSError:
            pass
        if sys.platform != "win32":
            os.close(self.fd)  # releases the lock
        return False


def remove_stale_temporaries(*paths):
    """Remove the temporary files (`NAME.*.tmp`) that a killed save left beside `paths`; returns their names.

    Call it only while holding the paths' `SaveLock`: then no save to them is under way.
    """
    removed = []
    for path in map(pathlib.Path, paths):
        folder = path.parent if str(path.parent) else pathlib.Path(".")
        for name in sorted(os.listdir(folder)):
            if name.startswith(path.name + ".") and name.endswith(".tmp"):
                try:
                    os.unlink(folder / name)
                    removed.append(str(folder / name))
                except OSError:
                    pass
    return removed


def resumable_state(path):
    """(steps done, steps in all, its command) if `path` holds a run that can resume; None if it holds
    anything else (a finished run, weights only); ValueError if it is not a checkpoint at all."""
    try:
        with open(path, encoding="utf-8") as f:
            payload = json.load(f)
    except (OSError, ValueError):
        payload = None
    if not isinstance(payload, dict) or payload.get("format") != "microgpt-checkpoint":
        raise ValueError(f"--save {str(path)!r} is a file that is not a microgpt checkpoint; give another --save path, "
                         "or add --overwrite to replace it")
    step = payload.get("step")
    if "plain_run" in payload and "optimizer" in payload:  # microgpt's run, stopped by Ctrl-C
        total = payload["plain_run"].get("steps")
    elif "optimizer" in payload and "rng_state" in payload:  # a batched run, saved to resume
        total = payload.get("run", {}).get("num_steps")
    else:
        return None
    if not (isinstance(step, int) and isinstance(total, int) and step < total):
        return None
    return step, total, payload.get("command")


def same_file(a, b):
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False


def check_overwrite(path, resume_path=None, overwrite=False, how_to_resume=None):
    """Refuse to let a run replace the checkpoint of another run that is unfinished and can still resume.

    Resuming from `path` itself is that run; `overwrite` replaces it on purpose. `how_to_resume(command,
    path)` gives the command line that resumes a saved run (from the command stored in it, if any).
    """
    if overwrite or not os.path.isfile(path) or (resume_path and same_file(path, resume_path)):
        return
    state = resumable_state(path)
    if state is None:
        return
    step, total, command = state
    hint = how_to_resume(command, path) if how_to_resume and command else f"its own options and --resume {path}"
    raise ValueError(f"--save {str(path)!r} holds a run stopped after step {step} of {total} that can still resume "
                     f"(with: {hint}); to start over and replace it, add --overwrite, or give another --save path")
