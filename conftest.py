"""Settings for the whole test run, the notebooks' kernels included (they inherit this environment)."""
import os

# A matplotlib backend named in the environment (by a shell profile, or by a test) would replace the
# notebooks' inline backend, and every plot cell would lose the output strict nbval expects.
os.environ.pop("MPLBACKEND", None)
# Set iteration order must not vary between runs; `make test` sets this too, plain `pytest` gets it here.
os.environ["PYTHONHASHSEED"] = "0"
