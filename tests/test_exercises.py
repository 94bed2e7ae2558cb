"""The exercises: every check passes on its solution, fails on the stub and on plausible wrong answers.

For each notebook solutions/NN_name/*.ipynb and each solution cell S in it (its check cell C is
the next graded cell), the cells before S run in a fresh namespace (solutions' code), then:
  (a) S as solved         -> C prints a line starting "passed:" and nothing on stderr;
  (b) S as the stub that exercises/ gives the learner -> S or C raises;
  (c) S as each wrong answer of tests/exercise_wrong_answers/chNN.py -> C raises AssertionError.
Plus the format of the notebooks (3-6 exercises, unique grade_ids, points, tags, headings, hints in
three folded tiers, no execution timestamps),
a wrong answer for every solution cell, no outputs in exercises/, and exercises/ up to date
with solutions/ (tools/make_exercises.py --check).

A chapter takes part as soon as its solutions notebook exists; from then on it must be complete.
Cells run with plain `exec` (no IPython magics), in the notebook's folder.
"""
import contextlib
import importlib.util
import io
import json
import pathlib
import re
import subprocess
import sys
import warnings

import matplotlib
import pytest

matplotlib.use("Agg")  # cells run in this process: a plot must not need a display (set here, not in
# os.environ, which the notebooks' kernels would inherit)


ROOT = pathlib.Path(__file__).resolve().parent.parent
SOLUTIONS = ROOT / "solutions"
EXERCISES = ROOT / "exercises"
WRONG_ANSWERS = ROOT / "tests" / "exercise_wrong_answers"
MIN_EXERCISES, MAX_EXERCISES = 3, 6


def source_of(cell):
    source = cell.get("source", "")
    return "".join(source) if isinstance(source, list) else source


def grading(cell):
    return cell.get("metadata", {}).get("nbgrader", {})


def load_cells(path):
    return json.loads(path.read_text(encoding="utf-8"))["cells"]


class Exercise:
    """One solution cell of a solutions notebook and the check cell that grades it."""

    def __init__(self, notebook, number, cells, solution_index, check_index):
        self.notebook = notebook
        self.number = number  # 1, 2, ... in notebook order
        self.cells = cells
        self.solution_index = solution_index
        self.check_index = check_index  # None if no graded cell follows
        self.grade_id = grading(cells[solution_index]).get("grade_id")

    @property
    def id(self):
        return f"{self.notebook.parent.name}-{self.grade_id}"

    @property
    def solution(self):
        return source_of(self.cells[self.solution_index])

    @property
    def check(self):
        return self.cells[self.check_index] if self.check_index is not None else None


def chapter_of(notebook):
    """'ch02' for solutions/02_autograd/02_exercises.ipynb."""
    match = re.match(r"(\d\d[a-z]?)_", notebook.parent.name)
    return f"ch{match.group(1)}" if match else notebook.parent.name


def solution_notebooks():
    if not SOLUTIONS.is_dir():
        return []
    return sorted(p for p in SOLUTIONS.glob("*/*.ipynb") if ".ipynb_checkpoints" not in p.parts)


def exercises_of(notebook):
    cells = load_cells(notebook)
    found = []
    solution_indices = [i for i, c in enumerate(cells) if c["cell_type"] == "code" and grading(c).get("solution")]
    for number, i in enumerate(solution_indices, start=1):
        check_index = next(
            (j for j in range(i + 1, len(cells)) if grading(cells[j]).get("grade") and not grading(cells[j]).get("solution")),
            None,
        )
        if check_index is not None and any(i < k < check_index for k in solution_indices):
            check_index = None  # the next graded cell belongs to a later exercise
        found.append(Exercise(notebook, number, cells, i, check_index))
    return found


def collect():
    """(all exercises, notebooks that could not be read with the reason)."""
    exercises, unreadable = [], []
    for notebook in solution_notebooks():
        try:
            exercises.extend(exercises_of(notebook))
        except (OSError, ValueError, KeyError) as err:
            unreadable.append((notebook, f"{type(err).__name__}: {err}"))
    return exercises, unreadable


EXERCISE_LIST, UNREADABLE = collect()
NOTEBOOKS = solution_notebooks()


def load_wrong_answers(chapter):
    """WRONG from tests/exercise_wrong_answers/chNN.py (an empty dict if the file is missing)."""
    path = WRONG_ANSWERS / f"{chapter}.py"
    if not path.is_file():
        return {}
    spec = importlib.util.spec_from_file_location(f"exercise_wrong_answers_{chapter}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return getattr(module, "WRONG", {})


WRONG_CACHE = {}


def wrong_answers(chapter):
    if chapter not in WRONG_CACHE:
        try:
            WRONG_CACHE[chapter] = load_wrong_answers(chapter)
        except Exception as err:  # reported by test_wrong_answer_files_load, not as a collection crash
            WRONG_CACHE[chapter] = err
    found = WRONG_CACHE[chapter]
    return found if isinstance(found, dict) else {}


def wrong_cases():
    cases = []
    for ex in EXERCISE_LIST:
        for k, source in enumerate(wrong_answers(chapter_of(ex.notebook)).get(ex.grade_id, []), start=1):
            cases.append(pytest.param(ex, source, id=f"{ex.id}-wrong{k}"))
    return cases


def stub_source(ex):
    """The source of the learner's version of the solution cell, from the generated exercises notebook."""
    path = EXERCISES / ex.notebook.relative_to(SOLUTIONS)
    if not path.is_file():
        pytest.fail(f"{path.relative_to(ROOT)} does not exist: run `python tools/make_exercises.py`")
    for cell in load_cells(path):
        if grading(cell).get("grade_id") == ex.grade_id:
            return source_of(cell)
    pytest.fail(f"no cell with grade_id {ex.grade_id} in {path.relative_to(ROOT)}: run `python tools/make_exercises.py`")


def run_cell(source, namespace, label):
    """exec one cell; returns (stdout, stderr, warnings); exceptions propagate."""
    out, err = io.StringIO(), io.StringIO()
    with warnings.catch_warnings(record=True) as caught, contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        warnings.simplefilter("always")
        exec(compile(source, label, "exec"), namespace)
    return out.getvalue(), err.getvalue(), [str(w.message) for w in caught]


def label_of(ex, index):
    return f"<{ex.notebook.relative_to(ROOT)} cell {index}>"


def is_check(cell):
    return bool(grading(cell).get("grade")) and not grading(cell).get("solution")


def run_until_solution(ex):
    """A fresh namespace with every code cell before the solution cell run (as solved).

    The check cells of earlier exercises are left out: they define nothing, each runs in its own
    test, and some take many seconds (chapter 08's train a model).
    """
    namespace = {"__name__": "__main__"}
    for i in range(ex.solution_index):
        cell = ex.cells[i]
        if cell["cell_type"] == "code" and not is_check(cell):
            try:
                run_cell(source_of(cell), namespace, label_of(ex, i))
            except Exception as err:
                pytest.fail(f"the solutions notebook fails before {ex.grade_id}: cell {i} raised "
                            f"{type(err).__name__}: {err}", pytrace=False)
    return namespace


def run_with(ex, source, monkeypatch):
    """Run the notebook up to S, `source` in place of S, the cells up to C, then C.

    Returns (stage, outcome): stage is "solution" or "check", where an exception was raised or
    "check" if none; outcome is the exception, or (stdout, stderr, warnings) of C.
    """
    assert ex.check is not None, f"{ex.grade_id} has no check cell after it"
    monkeypatch.chdir(ex.notebook.parent)
    namespace = run_until_solution(ex)
    try:
        run_cell(source, namespace, label_of(ex, ex.solution_index))
        for i in range(ex.solution_index + 1, ex.check_index):
            if ex.cells[i]["cell_type"] == "code":
                run_cell(source_of(ex.cells[i]), namespace, label_of(ex, i))
    except Exception as err:
        return "solution", err
    try:
        return "check", run_cell(source_of(ex.check), namespace, label_of(ex, ex.check_index))
    except Exception as err:
        return "check", err


# ---------------------------------------------------------------- the three runs of every check

@pytest.mark.parametrize("ex", EXERCISE_LIST, ids=lambda ex: ex.id)
def test_solution_passes(ex, monkeypatch):
    stage, outcome = run_with(ex, ex.solution, monkeypatch)
    if isinstance(outcome, BaseException):
        pytest.fail(f"the solution of {ex.grade_id} raised in its {stage} cell: {type(outcome).__name__}: {outcome}")
    stdout, stderr, caught = outcome
    assert any(line.startswith("passed:") for line in stdout.splitlines()), \
        f"the check of {ex.grade_id} printed no line starting 'passed:'; it printed {stdout!r}"
    assert stderr == "", f"the check of {ex.grade_id} wrote to stderr (nbgrader scores that as zero): {stderr!r}"
    assert not caught, f"the check of {ex.grade_id} raised warnings: {caught}"


@pytest.mark.parametrize("ex", EXERCISE_LIST, ids=lambda ex: ex.id)
def test_stub_fails(ex, monkeypatch):
    stub = stub_source(ex)
    assert "### BEGIN SOLUTION" not in stub, f"the learner's copy of {ex.grade_id} still holds the solution"
    stage, outcome = run_with(ex, stub, monkeypatch)
    if not isinstance(outcome, BaseException):
        pytest.fail(f"the check of {ex.grade_id} did not fail on the unsolved stub; it printed {outcome[0]!r}")


@pytest.mark.parametrize("ex, wrong", wrong_cases())
def test_wrong_answer_fails(ex, wrong, monkeypatch):
    stage, outcome = run_with(ex, wrong, monkeypatch)
    if not isinstance(outcome, BaseException):
        pytest.fail(f"the check of {ex.grade_id} passed a wrong answer; it printed {outcome[0]!r}. The wrong answer:\n{wrong}")
    assert stage == "check", (
        f"the wrong answer itself raised {type(outcome).__name__}: {outcome}; "
        "a wrong answer should run, and its check should catch it"
    )
    assert isinstance(outcome, AssertionError), (
        f"the check of {ex.grade_id} raised {type(outcome).__name__} ({outcome}) on a wrong answer, "
        "not an AssertionError with expected/got/hint"
    )


# ---------------------------------------------------------------- every solution cell has wrong answers

@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda p: p.parent.name)
def test_wrong_answer_files_load(notebook):
    chapter = chapter_of(notebook)
    path = WRONG_ANSWERS / f"{chapter}.py"
    assert path.is_file(), f"{path.relative_to(ROOT)} is missing: it holds WRONG = {{grade_id: [wrong sources]}}"
    wrong_answers(chapter)
    loaded = WRONG_CACHE[chapter]
    if isinstance(loaded, Exception):
        pytest.fail(f"{path.relative_to(ROOT)} does not import: {type(loaded).__name__}: {loaded}")
    assert isinstance(loaded, dict) and loaded, f"{path.relative_to(ROOT)} defines no WRONG dict"


@pytest.mark.parametrize("ex", EXERCISE_LIST, ids=lambda ex: ex.id)
def test_every_solution_cell_has_a_wrong_answer(ex):
    wrong = wrong_answers(chapter_of(ex.notebook)).get(ex.grade_id, [])
    assert wrong, f"no wrong answer for {ex.grade_id} in tests/exercise_wrong_answers/{chapter_of(ex.notebook)}.py"
    assert all(isinstance(w, str) and w.strip() for w in wrong)
    assert all(w != ex.solution for w in wrong), f"a wrong answer of {ex.grade_id} is the solution itself"


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda p: p.parent.name)
def test_wrong_answers_name_real_solution_cells(notebook):
    grade_ids = {ex.grade_id for ex in EXERCISE_LIST if ex.notebook == notebook}
    unknown = sorted(set(wrong_answers(chapter_of(notebook))) - grade_ids)
    assert not unknown, f"wrong answers for grade_ids that are not solution cells of {notebook.relative_to(ROOT)}: {unknown}"


# ---------------------------------------------------------------- the format of the solutions notebooks

@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda p: p.parent.name)
def test_notebook_is_readable(notebook):
    reasons = [reason for path, reason in UNREADABLE if path == notebook]
    assert not reasons, f"{notebook.relative_to(ROOT)} is not a readable notebook: {reasons[0] if reasons else ''}"


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda p: p.parent.name)
def test_no_execution_timestamps(notebook):
    """Jupyter's per-cell timestamps (metadata "execution") would leak into every copy an instructor releases."""
    stamped = [i for i, cell in enumerate(load_cells(notebook)) if "execution" in cell.get("metadata", {})]
    assert not stamped, (
        f"{notebook.relative_to(ROOT)} stores execution timestamps in cells {stamped}: execute it with "
        "--ExecutePreprocessor.record_timing=False (see exercises/README.md)"
    )


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda p: p.parent.name)
def test_three_to_six_exercises(notebook):
    count = sum(1 for ex in EXERCISE_LIST if ex.notebook == notebook)
    assert MIN_EXERCISES <= count <= MAX_EXERCISES, \
        f"{notebook.relative_to(ROOT)} has {count} exercises (solution cells); the course asks for 3 to 6"


@pytest.mark.parametrize("notebook", NOTEBOOKS, ids=lambda p: p.parent.name)
def test_grade_ids_unique_and_points(notebook):
    cells = load_cells(notebook)
    grade_ids = [grading(c)["grade_id"] for c in cells if "grade_id" in grading(c)]
    repeated = sorted({g for g in grade_ids if grade_ids.count(g) > 1})
    assert not repeated, f"grade_ids used more than once in {notebook.relative_to(ROOT)}: {repeated}"
    for cell in cells:
        meta = grading(cell)
        if meta:
            assert meta.get("schema_version") == 3, f"{meta.get('grade_id')}: nbgrader metadata needs schema_version 3"
            assert re.fullmatch(r"[A-Za-z0-9_-]+", meta.get("grade_id", "")), f"bad grade_id {meta.get('grade_id')!r}"
        if meta.get("grade"):
            points = meta.get("points", 0)
            assert isinstance(points, (int, float)) and points > 0, f"graded cell {meta['grade_id']} has points {points!r}"


@pytest.mark.parametrize("ex", EXERCISE_LIST, ids=lambda ex: ex.id)
def test_exercise_layout(ex):
    """Heading '## Exercise k: title (N points)', solution region, a check cell, raises-exception tags."""
    assert ex.check is not None, f"no graded check cell follows the solution cell {ex.grade_id}"
    assert ex.check["cell_type"] == "code" and grading(ex.check).get("locked"), f"the check of {ex.grade_id} must be a locked code cell"
    assert re.fullmatch(r"check_\w+\([\w, ]*\)\s*", source_of(ex.check)), (
        f"the check cell of {ex.grade_id} should be one call, check_name(answer, ...), defining nothing "
        f"(the tests skip earlier check cells); it is {source_of(ex.check)!r}"
    )
    assert "### BEGIN SOLUTION" in ex.solution and "### END SOLUTION" in ex.solution, \
        f"{ex.grade_id} has no ### BEGIN SOLUTION / ### END SOLUTION region"
    for cell in (ex.cells[ex.solution_index], ex.check):
        tags = cell.get("metadata", {}).get("tags", [])
        assert "raises-exception" in tags, f"{grading(cell)['grade_id']} needs the tag raises-exception (so Run All goes on)"
    heading = next((source_of(c) for c in reversed(ex.cells[: ex.solution_index]) if c["cell_type"] == "markdown"), "")
    points = grading(ex.check).get("points")
    unit = "point" if points == 1 else "points"
    pattern = rf"## Exercise {ex.number}: .+ \({points:g} {unit}\)"
    assert re.match(pattern, heading.splitlines()[0] if heading else ""), (
        f"the markdown cell before {ex.grade_id} should start with '## Exercise {ex.number}: <title> ({points:g} {unit})', "
        f"it starts with {heading.splitlines()[0] if heading else ''!r}"
    )
    check_hint_tiers(ex.grade_id, heading)


HINT_TIERS = ("Hint 1: a nudge", "Hint 2: the idea", "Hint 3: the code")
DETAILS_BLOCK = re.compile(r"<details><summary>(.*?)</summary>(.*?)</details>", re.S)


def check_hint_tiers(grade_id, statement):
    """Three folded hints in this order, each with some text: a nudge, the idea, the code."""
    blocks = DETAILS_BLOCK.findall(statement)
    summaries = [summary.strip() for summary, _ in blocks]
    assert summaries == list(HINT_TIERS), (
        f"the statement of {grade_id} should fold its hints in three <details> blocks with the summaries "
        f"{list(HINT_TIERS)}, in this order; it has {summaries}"
    )
    for summary, body in blocks:
        assert body.strip(), f"the hint {summary!r} of {grade_id} is empty"
    assert statement.count("<details>") == statement.count("</details>") == 3, f"unbalanced <details> in {grade_id}"


def test_hint_tiers_can_fail():
    with pytest.raises(AssertionError):
        check_hint_tiers("an old statement", "<details><summary>Hint</summary>\n\nthe answer's line\n\n</details>")
    check_hint_tiers("a good statement", "".join(f"<details><summary>{t}</summary>\n\ntext\n\n</details>\n" for t in HINT_TIERS))


# ---------------------------------------------------------------- exercises/ is generated, and clean

def test_exercises_up_to_date():
    result = subprocess.run([sys.executable, str(ROOT / "tools" / "make_exercises.py"), "--check"],
                            capture_output=True, text=True)
    assert result.returncode == 0, f"{result.stdout}{result.stderr}"


@pytest.mark.parametrize("notebook", sorted(EXERCISES.glob("*/*.ipynb")), ids=lambda p: p.parent.name)
def test_exercises_carry_no_outputs(notebook):
    """No outputs or counts; every stub and check cell tagged raises-exception, so Run All goes on."""
    for i, cell in enumerate(load_cells(notebook)):
        if cell["cell_type"] == "code":
            assert not cell.get("outputs") and cell.get("execution_count") is None, \
                f"{notebook.relative_to(ROOT)} cell {i} has outputs or an execution count"
            if grading(cell).get("solution") or grading(cell).get("grade"):
                assert "raises-exception" in cell.get("metadata", {}).get("tags", []), \
                    f"{notebook.relative_to(ROOT)} cell {i} ({grading(cell).get('grade_id')}) lacks the raises-exception tag"
