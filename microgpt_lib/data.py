"""The documents: one name per line of `data/names.txt`."""
import pathlib

_HERE = pathlib.Path(__file__).resolve().parent
# the repository's data/ (a clone, or `pip install -e .`), else the copy inside an installed wheel
DATA_DIRS = (_HERE.parent / "data", _HERE / "data")


def data_path(name="names.txt"):
    """Where a file shipped in `data/` is, from any working directory."""
    for folder in DATA_DIRS:
        if (folder / name).is_file():
            return folder / name
    raise FileNotFoundError(f"{name} is not in {' or '.join(str(d) for d in DATA_DIRS)}; is the course installed?")


def load_docs(path=None):
    """The non-empty lines of a text file, stripped; by default the shipped names."""
    path = data_path() if path is None else pathlib.Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"data file {str(path)!r} does not exist; pass the path of a text file with one document per line")
    docs = [line.strip() for line in path.read_text(encoding="utf-8").splitlines()]
    docs = [doc for doc in docs if doc]
    if not docs:
        raise ValueError(f"data file {str(path)!r} has no documents: it needs at least one non-empty line")
    return docs


def shuffled(docs, rng):
    """A shuffled copy of `docs`, with the generator `rng` (microgpt shuffles before anything else)."""
    docs = list(docs)
    rng.shuffle(docs)
    return docs
