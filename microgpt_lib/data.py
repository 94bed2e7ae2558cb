"""The documents: one name per line of `data/names.txt`."""
import collections
import pathlib
import random

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
    """The non-empty lines of a UTF-8 text file, stripped (a byte-order mark is dropped); by default the shipped names."""
    path = data_path() if path is None else pathlib.Path(path)
    if path.is_dir():
        raise IsADirectoryError(f"data file {str(path)!r} is a folder; pass the path of a text file with one document per line")
    if not path.exists():
        raise FileNotFoundError(f"data file {str(path)!r} does not exist; pass the path of a text file with one document per line")
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8-sig")  # a byte-order mark (some Windows editors write one) is not a character of the data
    except UnicodeDecodeError as err:
        line = raw[: err.start].count(b"\n") + 1
        raise ValueError(f"data file {str(path)!r} is not UTF-8 text (byte 0x{raw[err.start]:02x} on line {line}); "
                         "save it as UTF-8") from None
    docs = [line.strip() for line in text.splitlines()]
    docs = [doc for doc in docs if doc]
    if not docs:
        raise ValueError(f"data file {str(path)!r} has no documents: it needs at least one non-empty line")
    return docs


def shuffled(docs, rng):
    """A shuffled copy of `docs`, with the generator `rng` (microgpt shuffles before anything else)."""
    docs = list(docs)
    rng.shuffle(docs)
    return docs


Split = collections.namedtuple("Split", "train val test")


def split_docs(docs=None, seed=42, val_fraction=0.1, test_fraction=0.1):
    """A fixed train / validation / test split: microgpt's own shuffle, cut into three.

    The documents are shuffled exactly as microgpt shuffles them (`random.Random(seed)`, the
    first draw), then the last `test_fraction` are the test set, the `val_fraction` before
    them the validation set, and the rest the training set. So microgpt's default run, which
    trains on the first 1000 names of that same shuffle, never sees a validation or test name.
    """
    docs = load_docs() if docs is None else list(docs)
    if not (0 < val_fraction and 0 < test_fraction and val_fraction + test_fraction < 1):
        raise ValueError(f"val_fraction and test_fraction must be above 0 and add up to less than 1, got {val_fraction} and {test_fraction}")
    order = shuffled(docs, random.Random(seed))
    n_test, n_val = round(len(order) * test_fraction), round(len(order) * val_fraction)
    if min(n_test, n_val, len(order) - n_test - n_val) < 1:
        raise ValueError(f"{len(order)} documents are too few to split three ways")
    n_train = len(order) - n_val - n_test
    return Split(order[:n_train], order[n_train : n_train + n_val], order[n_train + n_val :])
