"""Checks for the exercises, one module per chapter (`ch01` ... `ch08`).

A check calls the learner's answer on inputs it chooses, compares the result with the
library's own piece, and then either prints one line starting with "passed:" to stdout,
or raises AssertionError saying what was expected, what came back, and a hint. It never
writes to stderr: nbgrader scores a cell with stderr output as zero.
"""
import math


def passed(name, detail=""):
    """Print the pass line of check `name`."""
    print(f"passed: {name}" + (f" ({detail})" if detail else ""))


def fail(name, expected, got, hint):
    """Raise the AssertionError of check `name`."""
    raise AssertionError(f"{name}: expected {expected}, got {got}. Hint: {hint}")


def call(name, f, *args, hint="run your function on this input yourself and read the error"):
    """f(*args); an error other than the stub's NotImplementedError becomes a failed check with `hint`.

    The learner's own error stays attached (`from err`), so its traceback still shows where it happened.
    """
    __tracebackhide__ = True  # pytest and IPython show the learner's frames, not the check's
    try:
        return f(*args)
    except (NotImplementedError, AssertionError):
        raise
    except Exception as err:
        what = getattr(f, "__name__", "your function")
        raise AssertionError(f"{name}: {what} raised {type(err).__name__}: {err}. Hint: {hint}") from err


def close(a, b, tol=1e-6):
    """Whether two numbers agree to `tol`, relative to their size (at least 1)."""
    return abs(a - b) <= tol * max(1.0, abs(a), abs(b))


def all_close(xs, ys, tol=1e-6):
    """Whether two sequences have the same length and agree element by element."""
    xs, ys = list(xs), list(ys)
    return len(xs) == len(ys) and all(close(x, y, tol) for x, y in zip(xs, ys))


def fmt(x):
    """A short, rounded text form of a number or a (nested) list of numbers, for messages."""
    if isinstance(x, float):
        return "nan" if math.isnan(x) else f"{x:.6g}"
    if isinstance(x, (list, tuple)):
        items = [fmt(v) for v in x[:8]] + (["..."] if len(x) > 8 else [])
        return "[" + ", ".join(items) + "]"
    return repr(x)
