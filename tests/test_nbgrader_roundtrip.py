"""nbgrader's whole round trip, as exercises/README.md tells an instructor to run it, on three chapters.

In a temporary course folder (set-up B of the guide): the sources copied by
`tools/make_exercises.py --course-source`, then generate_assignment, release_assignment,
fetch_assignment and submit by three students on this one machine (`--student`), collect,
autograde, generate_feedback and export. The untouched copy must score 0, a copy with the first
half of the exercises solved some points but not all, the worked solutions full marks.

The steps that take every assignment at once ("*") run as the guide's commands, one nbgrader
process each; the exchange steps take one assignment per command, so they run as nbgrader's own
apps, one after another inside one Python process per side (each nbgrader process costs seconds
to start).
"""
import csv
import json
import os
import pathlib
import subprocess
import sys
import textwrap

import pytest

ROOT = pathlib.Path(__file__).resolve().parent.parent
CHAPTERS = ("01_data_and_tokenizer", "02_autograd", "03_building_blocks")
STUDENTS = ("stub", "half", "full")  # the untouched copy, the first half solved, every exercise solved
COURSE = "microgpt"

pytestmark = pytest.mark.slow


def student_name(name):
    return name.replace("_solutions.ipynb", "_exercises.ipynb")


def grading(cell):
    return cell.get("metadata", {}).get("nbgrader", {})


def solution_sources(chapter):
    """{grade_id: source} of the solution cells of the chapter's solutions notebook, and the points."""
    (path,) = sorted((ROOT / "solutions" / chapter).glob("*.ipynb"))
    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    sources = {grading(c)["grade_id"]: c["source"] for c in cells if grading(c).get("solution")}
    points = sum(grading(c).get("points", 0) for c in cells if grading(c).get("grade"))
    return sources, points


def solve(notebook, sources, how_many):
    """Fill in the first `how_many` solution cells of a fetched notebook with the worked solutions."""
    nb = json.loads(notebook.read_text(encoding="utf-8"))
    solution_cells = [c for c in nb["cells"] if grading(c).get("solution")]
    for cell in solution_cells[:how_many]:
        cell["source"] = sources[grading(cell)["grade_id"]]
    notebook.write_text(json.dumps(nb, indent=1), encoding="utf-8")
    return len(solution_cells)


def run(command, cwd, env, timeout=600):
    result = subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout)
    log = result.stdout + result.stderr
    assert result.returncode == 0, f"{' '.join(map(str, command))} failed (exit {result.returncode}):\n{log[-4000:]}"
    return log


APPS = """
import os, sys
from nbgrader.apps import CollectApp, FetchAssignmentApp, ReleaseAssignmentApp, SubmitApp

APPS = {"release_assignment": ReleaseAssignmentApp, "fetch_assignment": FetchAssignmentApp,
        "submit": SubmitApp, "collect": CollectApp}
for cwd, name, *argv in STEPS:
    os.chdir(cwd)
    app = APPS[name]
    app.launch_instance(argv=argv)
    app.clear_instance()
"""


def run_apps(steps, cwd, env):
    """nbgrader's exchange commands, `nbgrader NAME ARGS` run in `cwd`, in one Python process."""
    script = f"STEPS = {steps!r}\n" + textwrap.dedent(APPS)
    return run([sys.executable, "-c", script], cwd, env)


def test_round_trip_scores_stub_half_and_full(tmp_path):
    pytest.importorskip("nbgrader")
    course, exchange, homes = tmp_path / "course", tmp_path / "exchange", tmp_path / "home"
    course.mkdir()
    exchange.mkdir()
    (course / "nbgrader_config.py").write_text(
        "c = get_config()\n"
        f"c.CourseDirectory.course_id = {COURSE!r}\n"
        f"c.Exchange.root = {str(exchange)!r}\n", encoding="utf-8")
    bin_dir = pathlib.Path(sys.executable).parent
    env = dict(os.environ, PATH=f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}", PYTHONHASHSEED="0",
               JUPYTER_CONFIG_DIR=str(tmp_path / "jupyter_config"))  # no config of this machine's user
    nbgrader = [sys.executable, "-m", "nbgrader"]

    # the instructor: the sources under the learners' file names, then generate and release
    run([sys.executable, str(ROOT / "tools" / "make_exercises.py"), "--course-source", "source", *CHAPTERS], course, env)
    run([*nbgrader, "generate_assignment", "*"], course, env)
    for chapter in CHAPTERS:
        released = list((course / "release" / chapter).glob("*.ipynb"))
        assert [p.name for p in released] == [student_name(p.name) for p in (ROOT / "solutions" / chapter).glob("*.ipynb")]
        assert "HIDDEN TESTS" not in released[0].read_text(encoding="utf-8")
    run_apps([(str(course), "release_assignment", chapter) for chapter in CHAPTERS], course, env)

    # three students on this one machine: each fetches into the folder it runs in, solves, submits from there
    exchange_flags = ["--course", COURSE, f"--Exchange.root={exchange}"]
    for student in STUDENTS:
        (homes / student).mkdir(parents=True)
    run_apps([(str(homes / s), "fetch_assignment", c, *exchange_flags) for s in STUDENTS for c in CHAPTERS], course, env)
    full_marks = {}
    for chapter in CHAPTERS:
        sources, full_marks[chapter] = solution_sources(chapter)
        for student in STUDENTS:
            (notebook,) = sorted((homes / student / chapter).glob("*.ipynb"))
            count = len(sources)
            solve(notebook, sources, {"stub": 0, "half": count // 2, "full": count}[student])
    run_apps([(str(homes / s), "submit", c, *exchange_flags, f"--student={s}") for s in STUDENTS for c in CHAPTERS]
             + [(str(course), "collect", c) for c in CHAPTERS], course, env)
    for student in STUDENTS:
        for chapter in CHAPTERS:
            assert list((course / "submitted" / student / chapter).glob("*.ipynb")), f"{student}'s {chapter} was not collected"

    # grade
    log = run([*nbgrader, "autograde", "*"], course, env, timeout=900)
    run([*nbgrader, "generate_feedback", "*"], course, env)
    run([*nbgrader, "export"], course, env)
    for student in STUDENTS:
        for chapter in CHAPTERS:
            assert list((course / "feedback" / student / chapter).glob("*.html")), f"no feedback for {student}'s {chapter}"

    with open(course / "grades.csv", newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    scores = {(row["student_id"], row["assignment"]): float(row["score"]) for row in rows}
    max_scores = {row["assignment"]: float(row["max_score"]) for row in rows}
    table = "\n".join(f"  {s:4} {c}: {scores.get((s, c))} of {max_scores.get(c)}" for s in STUDENTS for c in CHAPTERS)
    for chapter in CHAPTERS:
        assert max_scores[chapter] == full_marks[chapter], table
        assert scores["stub", chapter] == 0, f"the untouched copy scored points:\n{table}"
        assert 0 < scores["half", chapter] < full_marks[chapter], f"half solved is not partial:\n{table}\n{log[-3000:]}"
        assert scores["full", chapter] == full_marks[chapter], f"the worked solutions lost points:\n{table}\n{log[-3000:]}"
