"""Regenerate exercises/ (the learners' notebooks) from solutions/ (the single source).

    python tools/make_exercises.py          # rewrite exercises/NN_name/ from solutions/NN_name/
    python tools/make_exercises.py --check  # regenerate into a temporary folder; exit 1 if exercises/ differs
    python tools/make_exercises.py --course-source DIR [NN_name ...]
                                            # an instructor's nbgrader source folder: DIR/NN_name/NN_exercises.ipynb

Every folder of solutions/ that holds notebooks is an nbgrader assignment. nbgrader's own
`generate_assignment` (without a database, with --force) turns each `### BEGIN SOLUTION` ... `### END SOLUTION`
region into `# YOUR CODE HERE` + `raise NotImplementedError()`, removes the hidden cases
(`### BEGIN HIDDEN TESTS` ... `### END HIDDEN TESTS`), clears outputs and execution counts, and
locks the cells. This script then gives the learners' copy its own name and title, so that the two
never look alike in JupyterLab's tabs (solutions/02_autograd/02_solutions.ipynb, titled "# Chapter 02
solutions: ...", becomes exercises/02_autograd/02_exercises.ipynb, titled "# Chapter 02 exercises:
..."; the title cell carries no nbgrader metadata, so autograde never compares it), makes the result
deterministic (it drops the per-run execution timestamps that Jupyter stores in cell metadata, and
writes the JSON in one canonical form) and makes sure every solution and check cell keeps its
`raises-exception` tag, so that Run All goes on past an unsolved exercise.

nbgrader grades a submitted notebook under its file name, so an instructor's source folder must use the
learners' names: `--course-source DIR` copies the solutions notebooks there as NN_exercises.ipynb.

exercises/README.md is written by hand and never touched. Any other file in exercises/ that the
sources no longer produce is removed (and reported). Works from any working directory.
"""
import argparse
import os
import pathlib
import re
import shutil
import subprocess
import sys
import tempfile

ROOT = pathlib.Path(__file__).resolve().parent.parent
SOURCE = ROOT / "solutions"
RELEASE = ROOT / "exercises"
KEEP = {"README.md"}  # hand-written files at the top of exercises/
IGNORED = {".ipynb_checkpoints", "__pycache__"}
SOLUTIONS_SUFFIX, EXERCISES_SUFFIX = "_solutions.ipynb", "_exercises.ipynb"
TITLE = re.compile(r"^(# Chapter \S+) solutions\b")


def student_name(name):
    """The learners' file name of a solutions notebook: 02_solutions.ipynb -> 02_exercises.ipynb."""
    if name.endswith(SOLUTIONS_SUFFIX):
        return name[: -len(SOLUTIONS_SUFFIX)] + EXERCISES_SUFFIX
    return name


def student_title(nb, path):
    """The title cell of the learners' copy: "# Chapter 02 solutions: ..." -> "# Chapter 02 exercises: ..."."""
    cell = nb.cells[0] if nb.cells else None
    if cell is None or cell.cell_type != "markdown" or not TITLE.match(cell.source):
        return
    if cell.metadata.get("nbgrader", {}).get("locked"):
        raise ToolError(f"{path.name}: the title cell says 'solutions' and is locked; the learners' copy changes "
                        "its title, which autograde would find changed: take the title cell out of nbgrader "
                        "(no nbgrader metadata), as in solutions/02_autograd/")
    cell.source = TITLE.sub(r"\1 exercises", cell.source, count=1)


class ToolError(Exception):
    """A problem this tool explains itself (printed without a traceback)."""


def assignments(source=SOURCE):
    """The assignment folders of `source`: those holding at least one notebook, sorted."""
    if not source.is_dir():
        raise ToolError(f"there is no {source.relative_to(ROOT)}/ folder to generate from (looked in {ROOT})")
    return sorted(p.name for p in source.iterdir() if p.is_dir() and p.name not in IGNORED and any(p.glob("*.ipynb")))


def run_nbgrader(release, workdir):
    """`nbgrader generate_assignment "*" --no-db --force`: every assignment of solutions/ into `release`.

    One nbgrader process for all the assignments (each start costs seconds); its log, which
    names the notebook at fault, is shown only if it fails.
    """
    try:
        import nbgrader  # noqa: F401  (only to give a clear message when it is missing)
    except ImportError:
        raise ToolError(
            f"nbgrader is not installed in this Python ({sys.executable}); "
            "run `make exercises`, or `.venv/bin/python tools/make_exercises.py` after `make lab` has built .venv"
        ) from None
    # An empty config folder and a scratch course root: no nbgrader_config.py of this machine
    # or of the current directory can change what is generated.
    config_dir = workdir / "jupyter_config"
    config_dir.mkdir()
    env = dict(os.environ, JUPYTER_CONFIG_DIR=str(config_dir), PYTHONHASHSEED="0")
    command = [
        sys.executable, "-m", "nbgrader", "generate_assignment", "*", "--no-db", "--force",
        f"--CourseDirectory.root={workdir}",
        f"--CourseDirectory.source_directory={SOURCE}",
        f"--CourseDirectory.release_directory={release}",
    ]
    result = subprocess.run(command, cwd=workdir, env=env, capture_output=True, text=True)
    if result.returncode != 0:
        lines = (result.stdout + result.stderr).strip().splitlines()
        log = "\n".join("    " + line for line in lines)
        # the lines that say what went wrong, e.g. "ValidationError: Duplicate grade id: ex02_setup"
        causes = list(dict.fromkeys(line.strip() for line in lines if re.search(r"\w(Error|Exception): ", line)))
        raise ToolError(
            f"nbgrader generate_assignment failed (exit code {result.returncode}): {' / '.join(causes) or 'see its log'}\n"
            f"Its log (it names the notebook):\n{log}\n"
            "Usual causes: a duplicate grade_id, a graded cell without points, a solution cell without "
            "### BEGIN SOLUTION / ### END SOLUTION, or a notebook that is not valid JSON."
        )


def tidy_notebook(path):
    """Drop per-run metadata, keep outputs cleared, keep stub and check cells tagged, write canonically."""
    import nbformat

    nb = nbformat.read(path, as_version=4)
    student_title(nb, path)
    for cell in nb.cells:
        cell.metadata.pop("execution", None)  # Jupyter's timestamps of the run that made solutions/
        if cell.cell_type != "code":
            continue
        cell.outputs = []
        cell.execution_count = None
        grading = cell.metadata.get("nbgrader", {})
        if grading.get("solution") or grading.get("grade"):
            tags = list(cell.metadata.get("tags", []))
            if "raises-exception" not in tags:
                tags.append("raises-exception")  # an unsolved stub raises; Run All must go on
            cell.metadata["tags"] = tags
    nbformat.validate(nb)
    text = nbformat.writes(nb, version=4)
    # "\n" line ends on every system, so Windows writes the same bytes
    path.write_bytes((text if text.endswith("\n") else text + "\n").encode("utf-8"))


def generate(release, workdir):
    """Generate every assignment into the folder `release`; returns the assignment names."""
    names = assignments()
    if not names:
        raise ToolError("solutions/ holds no notebooks: nothing to generate")
    run_nbgrader(release, workdir)
    for name in names:
        folder = release / name
        if not folder.is_dir():
            raise ToolError(f"nbgrader wrote nothing for solutions/{name}/ (expected {folder})")
        for path in sorted(folder.rglob("*.ipynb")):
            tidy_notebook(path)
            target = path.with_name(student_name(path.name))
            if target != path:
                if target.exists():
                    raise ToolError(f"solutions/{name}/ holds both {path.name} and {target.name}: keep only {path.name}")
                path.rename(target)
    return names


def course_source(dest, names=None):
    """Copy the solutions notebooks of `names` (all if None) into the nbgrader source folder `dest`,
    under the learners' file names: dest/02_autograd/02_exercises.ipynb. Returns the files written."""
    known = assignments()
    names = list(names) if names else known
    unknown = [n for n in names if n not in known]
    if unknown:
        raise ToolError(f"no such chapter in solutions/: {', '.join(unknown)} (there are: {', '.join(known)})")
    written = []
    for name in names:
        (dest / name).mkdir(parents=True, exist_ok=True)
        for path in sorted((SOURCE / name).glob("*.ipynb")):
            target = dest / name / student_name(path.name)
            shutil.copyfile(path, target)
            written.append(target)
    return written


def files_of(folder):
    """Relative paths of the generated files under `folder` (the hand-written README left out)."""
    if not folder.is_dir():
        return set()
    found = set()
    for path in folder.rglob("*"):
        rel = path.relative_to(folder)
        if path.is_file() and not (set(rel.parts) & IGNORED) and not (len(rel.parts) == 1 and rel.name in KEEP):
            found.add(rel)
    return found


def same_text(path):
    """The bytes of a file with "\r\n" read as "\n" (a checkout with autocrlf is not out of date)."""
    return path.read_bytes().replace(b"\r\n", b"\n")


def differences(new, old):
    """(kind, relative path) for each way folder `old` differs from the freshly generated `new`.

    kind is "missing" (generated, not in `old`), "stale" (in `old`, no longer generated) or "differs".
    """
    new_files, old_files = files_of(new), files_of(old)
    changes = []
    for rel in sorted(new_files | old_files):
        if rel not in old_files:
            changes.append(("missing", rel))
        elif rel not in new_files:
            changes.append(("stale", rel))
        elif same_text(new / rel) != same_text(old / rel):
            changes.append(("differs", rel))
    return changes


def install(new, release=RELEASE):
    """Make `release` hold exactly the generated files of `new` (plus the hand-written README)."""
    release.mkdir(exist_ok=True)
    changes = differences(new, release)
    for kind, rel in changes:
        if kind == "stale":
            (release / rel).unlink()
        else:
            (release / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(new / rel, release / rel)
    for folder in sorted((p for p in release.rglob("*") if p.is_dir()), reverse=True):
        if not any(folder.iterdir()):
            folder.rmdir()  # an assignment whose source was removed
    return changes


CHECK_WORDS = {"missing": "missing (the sources produce it)", "stale": "stale (no source produces it)", "differs": "differs"}
WRITE_WORDS = {"missing": "written", "stale": "removed", "differs": "updated"}


def main(argv=None):
    parser = argparse.ArgumentParser(description="Regenerate exercises/ from solutions/ with nbgrader.")
    parser.add_argument("--check", action="store_true",
                        help="only compare: regenerate into a temporary folder, list the differences, exit 1 if any")
    parser.add_argument("--course-source", metavar="DIR", type=pathlib.Path,
                        help="copy the solutions notebooks into the nbgrader source folder DIR under the learners' "
                             "file names (DIR/NN_name/NN_exercises.ipynb), for an instructor's course folder")
    parser.add_argument("chapters", nargs="*", help="with --course-source: the chapters to copy (default: all)")
    args = parser.parse_args(argv)
    if args.chapters and not args.course_source:
        parser.error("chapters are only given with --course-source")
    try:
        if args.course_source:
            written = course_source(args.course_source, args.chapters)
            for path in written:
                print(f"written: {path}")
            return 0
        with tempfile.TemporaryDirectory(prefix="make_exercises_") as tmp:
            workdir = pathlib.Path(tmp)
            new = workdir / "release"
            names = generate(new, workdir)
            if args.check:
                changes = differences(new, RELEASE)
                if changes:
                    print("exercises/ is out of date with solutions/; run `python tools/make_exercises.py`:")
                    for kind, rel in changes:
                        print(f"  {CHECK_WORDS[kind]}: exercises/{rel.as_posix()}")
                    return 1
                print(f"exercises/ is up to date ({len(names)} assignments: {', '.join(names)})")
                return 0
            changes = install(new)
            for kind, rel in changes:
                print(f"{WRITE_WORDS[kind]}: exercises/{rel.as_posix()}")
            print(f"exercises/ regenerated from solutions/ ({len(names)} assignments, {len(changes)} files changed)")
            return 0
    except ToolError as err:
        print(f"make_exercises: error: {err}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
