"""Checks for the exercises, one module per chapter (`ch01`, `ch02`, ..., `ch09b`, ...).

A check calls the learner's answer on inputs it chooses, compares the result with a reference
(the library's own piece, never the learner's answer), and then either prints one line starting
with "passed:" to stdout, or raises AssertionError saying what was expected, what came back, and
a hint. It never writes to stderr: nbgrader scores a cell with stderr output as zero.

Every check takes `cases=None` (None: its visible cases); a check cell runs it on those, then,
between nbgrader's hidden-test markers, on cases of its own, which the learners' copy leaves out:

    from microgpt_lib.checks.ch03 import check_linear
    check_linear(linear)
    ### BEGIN HIDDEN TESTS
    check_linear(linear, cases=[...])
    ### END HIDDEN TESTS

Learner code is run through `call`: it turns an unsolved stub's bare NotImplementedError into
one that says which exercise is not done yet, any other error into a failed check with a hint,
and it catches the warnings the learner's code raises and reports them on stdout (a warning on
stderr would zero a right answer). `@exercise(3, "softmax")` on a check names its exercise in
those messages, and does the same for learner code the check reaches without `call`.
"""
import contextvars
import functools
import math
import warnings

_EXERCISE = contextvars.ContextVar("exercise", default=None)


def exercise(number, title):
    """Decorator: the check grades exercise `number` (`title`); its not-done message says so.

    It also turns a bare NotImplementedError raised anywhere in the check into that message, and
    reports on stdout the warnings that escape the check, so no path of the check reaches stderr.
    """
    label = f"exercise {number} ({title})"

    def wrap(check):
        @functools.wraps(check)
        def run(*args, **kwargs):
            __tracebackhide__ = True
            token = _EXERCISE.set(label)
            try:
                with caught_warnings(label):
                    return check(*args, **kwargs)
            except NotImplementedError as err:
                if err.args:
                    raise
                raise NotImplementedError(not_done(label)) from None
            finally:
                _EXERCISE.reset(token)

        return run

    return wrap


def not_done(what):
    """The message for an unsolved stub."""
    return (f"{what} is not done yet: write your answer in its cell above, in place of "
            "`raise NotImplementedError()`, run that cell, then run this check again")


class caught_warnings:
    """A context that records the warnings raised inside it and prints them on stdout at its end."""

    def __init__(self, what):
        self.what = what

    def __enter__(self):
        self._context = warnings.catch_warnings(record=True)
        self.caught = self._context.__enter__()
        warnings.simplefilter("always")
        return self

    def __exit__(self, *exc):
        self._context.__exit__(*exc)
        counts = {}
        for w in self.caught:
            key = f"{w.category.__name__}: {w.message}"
            counts[key] = counts.get(key, 0) + 1
        for key, n in counts.items():
            times = f" ({n} times)" if n > 1 else ""
            print(f"warning from {self.what}{times}: {key} (reported here, not on stderr; the check goes on)")
        return False


def passed(name, detail=""):
    """Print the pass line of check `name`."""
    print(f"passed: {name}" + (f" ({detail})" if detail else ""))


def fail(name, expected, got, hint):
    """Raise the AssertionError of check `name`."""
    raise AssertionError(f"{name}: expected {expected}, got {got}. Hint: {hint}")


def call(name, f, *args, hint="run your function on this input yourself and read the error"):
    """f(*args), the learner's code, run by check `name`.

    - an unsolved stub's bare NotImplementedError says which exercise is not done yet;
    - any other error becomes a failed check with `hint` (the learner's own error stays attached,
      `from err`, so its traceback still shows where it happened);
    - warnings raised by f are printed on stdout, once each, and the check goes on.
    """
    __tracebackhide__ = True  # pytest and IPython show the learner's frames, not the check's
    what = getattr(f, "__name__", "your function")
    try:
        with caught_warnings(f"{what}()"):
            return f(*args)
    except NotImplementedError as err:
        if err.args:
            raise
        raise NotImplementedError(not_done(_EXERCISE.get() or f"`{what}`")) from None
    except AssertionError:
        raise
    except Exception as err:
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
