"""Chapter 13's measurements: each modern change alone on chapter 11's model, at an equal time budget, with seeds.

    python scripts/ablate.py                  # the ablations (validation only): data/ablations.json
    python scripts/ablate.py --long           # the winners again at 5500 steps' worth: data/ablations_long.json
    python scripts/ablate.py --search         # the recipe search at 5 minutes' worth: data/recipe_search.json
    python scripts/ablate.py --fast           # the same budget on the fast engine: data/recipe_search_fast.json
    python scripts/ablate.py --averages       # moving averages of the weights of two fast runs: data/recipe_averages.json
    python scripts/ablate.py --final --fast   # chapter 13's final table, on the fast engine (validation and
                                              # test): data/final_table_fast.json
    python scripts/ablate.py --final --base-steps 18000 --only big makemore modern --out data/final_table_5min.json
                                              # the first recipe's table (validation and test)
    python scripts/ablate.py --final --base-steps 5500   # the earlier table at 5500 steps: data/final_table.json

Wall-clock budgets are unreliable on a shared machine, so time enters once, as ratios: a short
benchmark times every variant's training step side by side (interleaved rounds, the median of
each), and a variant that is r times slower than the baseline trains for base_steps / r steps.
So every run is deterministic (a step count and a seed), and the results file records the steps,
the measured seconds, the ratio, the seed and the losses of each run. Results are written as each
run ends: a killed script loses only the runs in flight, and running it again does the rest.
The test names are read only by --final, once, for the final table.
"""
import argparse
import concurrent.futures
import json
import math
import pathlib
import statistics
import sys
import time

ROOT = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from microgpt_lib import batch_train as bt  # noqa: E402
from microgpt_lib import modern  # noqa: E402
from microgpt_lib.data import split_docs  # noqa: E402
from microgpt_lib.tokenizer import Tokenizer  # noqa: E402

BASE = modern.BIG  # chapter 11's --preset big: every ablation changes one thing of it
BASE_WARMUP_FRACTION = BASE["warmup_steps"] / BASE["num_steps"]  # 200 of 5500 steps, kept at any length

# one change at a time (the settings that differ from BASE)
VARIANTS = {
    "baseline": {},
    "clip 1.0": dict(clip_norm=1.0),
    "cosine": dict(schedule="cosine"),
    "wsd": dict(schedule="wsd"),
    "dropout 0.1": dict(dropout=0.1),
    "tied": dict(tie_weights=True),
    "rope": dict(position="rope"),
    "relu2": dict(activation="relu2"),
    "gelu": dict(activation="gelu"),
    "swiglu": dict(activation="swiglu"),
    "qk-norm": dict(qk_norm=True),
    "decay matrices": dict(decay="matrices"),
    "wide 96x2": dict(n_embd=96, n_layer=2),
    "deep 48x5": dict(n_embd=48, n_layer=5),
    "batch 16": dict(batch_size=16),
    "batch 64": dict(batch_size=64),
    "makemore": {k: v for k, v in modern.MAKEMORE.items() if BASE.get(k) != v},
}

# the second look (--long): the short budget's winners again, at the final table's budget, validation only
LONG_VARIANTS = {
    "relu2": VARIANTS["relu2"],
    "relu2 + wide 96x2": {**VARIANTS["relu2"], **VARIANTS["wide 96x2"]},
}

# the third look (--search): at the target's budget (5 minutes, 18,000 of big's steps' time) big overfits
# (train 1.70, validation 2.00 in data/final_table_5min.json, against 1.86 and 1.99 at 5500 steps), so
# the search is about regularisation and its partners; one seed each (42), validation only
SEARCH_VARIANTS = {
    "relu2 dropout 0.05": dict(activation="relu2", dropout=0.05),
    "relu2 dropout 0.1": dict(activation="relu2", dropout=0.1),
    "relu2 dropout 0.2": dict(activation="relu2", dropout=0.2),
    "relu2 dropout 0.1 lr 2e-3": dict(activation="relu2", dropout=0.1, lr=0.002),
    "relu2 dropout 0.1 lr 5e-3": dict(activation="relu2", dropout=0.1, lr=0.005),
    "relu2 dropout 0.1 wsd": dict(activation="relu2", dropout=0.1, schedule="wsd"),
    "relu2 dropout 0.1 64x4": dict(activation="relu2", dropout=0.1, n_layer=4),
    "relu2 dropout 0.2 96x3": dict(activation="relu2", dropout=0.2, n_embd=96, n_layer=3),
}

# the fourth look (--fast): the same budget on chapter 13's fast engine (modern_fast: backward by hand, real
# positions only, float32), about twice as fast a step, so a bigger model fits in the 5 minutes; one seed each
# (42), validation only. The budget is still the time of 18,000 of big's steps on the numpy engine: each
# variant is timed against big on the numpy engine, side by side
FAST = dict(engine="manual", activation="relu2")
FAST_VARIANTS = {
    "fast 64x3 dropout 0.1": dict(FAST, dropout=0.1),
    "fast 64x4 dropout 0.1": dict(FAST, dropout=0.1, n_layer=4),
    "fast 64x4 dropout 0.2": dict(FAST, dropout=0.2, n_layer=4),
    "fast 96x3 dropout 0.1": dict(FAST, dropout=0.1, n_embd=96),
    # these four were stopped or never started once 96x3 came back worse (their bench times are in the file)
    "fast 96x3 dropout 0.2": dict(FAST, dropout=0.2, n_embd=96),
    "fast 96x4 dropout 0.2": dict(FAST, dropout=0.2, n_embd=96, n_layer=4),
    "fast 64x6 dropout 0.2": dict(FAST, dropout=0.2, n_layer=6),
    "fast 128x3 dropout 0.3": dict(FAST, dropout=0.3, n_embd=128),
    # bigger did not help (64x4 level with 64x3, 96x3 worse): the runs are short of names, not of
    # capacity, so the next look is more regularisation on the two best shapes
    "fast 64x3 dropout 0.1 decay 0.3": dict(FAST, dropout=0.1, weight_decay=0.3),
    "fast 64x4 dropout 0.1 decay 0.3": dict(FAST, dropout=0.1, n_layer=4, weight_decay=0.3),
    "fast 64x4 dropout 0.15": dict(FAST, dropout=0.15, n_layer=4),
    "fast 64x4 dropout 0.1 batch 64": dict(FAST, dropout=0.1, n_layer=4, batch_size=64),
}

# changes to the optimizer's numbers only: the same arithmetic per step as the baseline, so their time
# ratio is 1 by construction (timed, they differ from the baseline's only by the machine's noise)
SAME_COST = ("cosine", "wsd", "decay matrices")

# in the search, the same arithmetic per step as another variant (another rate, schedule or drop probability):
# its ratio is that variant's, not timed again
SAME_COST_AS = {name: "relu2 dropout 0.1" for name in ("relu2 dropout 0.05", "relu2 dropout 0.1 lr 2e-3",
                                                        "relu2 dropout 0.1 lr 5e-3", "relu2 dropout 0.1 wsd")}
SAME_COST_AS.update({"fast 64x4 dropout 0.2": "fast 64x4 dropout 0.1", "fast 96x3 dropout 0.2": "fast 96x3 dropout 0.1",
                     "fast 64x3 dropout 0.1 decay 0.3": "fast 64x3 dropout 0.1",
                     "fast 64x4 dropout 0.1 decay 0.3": "fast 64x4 dropout 0.1",
                     "fast 64x4 dropout 0.15": "fast 64x4 dropout 0.1"})

# changes that add arithmetic to every step and remove none: never cheaper than the baseline
NOT_CHEAPER = ("relu2", "modern")  # the recipe is big with ReLU^2 and dropout

# the final table's recipes (--final): chapter 11's, makemore's, and the changes that helped, combined
RECIPES = {
    "big": {},
    "makemore": VARIANTS["makemore"],
    "winners combined": modern.SHORT_BUDGET_WINNERS,
    "modern": modern.FIRST_RECIPE_CHANGES,
}

# the final table on chapter 13's fast engine (--final --fast): big, makemore's recipe and the fast search's
# choice, all on the same engine for the same 5 minutes (the time of 18,000 of big's steps on the numpy engine)
FAST_RECIPES = {
    "big": dict(engine="manual"),
    "makemore": dict(VARIANTS["makemore"], engine="manual"),
    "modern": modern.MODERN_CHANGES,
}


def data():
    split = split_docs()
    tokenizer = Tokenizer(sorted(set("".join(split.train + split.val + split.test))))  # as the command line builds it
    return split, tokenizer


def build(changes, num_steps, seed, tokenizer, evaluations=1):
    """A fresh run of BASE with `changes`, for `num_steps` steps (warm-up and evaluations scaled to it)."""
    settings = {**BASE, **changes, "num_steps": num_steps, "seed": seed, "save_every": 0}
    if settings.get("warmup_steps"):
        settings["warmup_steps"] = max(1, round(BASE_WARMUP_FRACTION * num_steps))
    settings["eval_every"] = max(1, num_steps // evaluations)  # an evaluation costs ~100 steps: few of them
    model_settings, run_settings = modern.split_settings(settings)
    model_config = modern.ModernConfig(vocab_size=tokenizer.vocab_size, **model_settings)
    return modern.start_run(model_config, modern.ModernRunConfig(**run_settings)), settings


def bench(variants, steps, rounds, statistic="min"):
    """Seconds per training step of every variant, timed side by side: `rounds` interleaved rounds of `steps`.

    Each variant's time is the `statistic` of its rounds: the least disturbed round ("min") is the best
    estimate of a step's own cost when other programs share the machine (data/ablations.json was
    timed with the median, which a busy machine skewed less there than in a later bench: see the chapter).
    """
    split, tokenizer = data()
    runs = {name: build(changes, 10**6, 0, tokenizer)[0] for name, changes in variants.items()}
    times = {name: [] for name in variants}
    for name, run in runs.items():  # a first step each, outside the timing
        bt.train_run(run, tokenizer, split.train, split.val[:1], should_stop=lambda r=run: r.step >= 2)
    for _ in range(rounds):
        for name, run in runs.items():
            target = run.step + steps
            started = time.perf_counter()
            bt.train_run(run, tokenizer, split.train, split.val[:1], should_stop=lambda r=run, t=target: r.step >= t)
            times[name].append((time.perf_counter() - started) / steps)
    return {name: statistics.median(t) if statistic == "median" else min(t) for name, t in times.items()}


def train_one(job):
    """One run to the end: its settings, steps, seconds and losses (the test split only if asked)."""
    name, changes, num_steps, seed, with_test = job
    split, tokenizer = data()
    # an evaluation costs about 100 steps: one at the end of a short run, ten along a long one
    run, settings = build(changes, num_steps, seed, tokenizer, evaluations=10 if num_steps > 1000 else 1)
    bt.train_run(run, tokenizer, split.train, split.val)
    result = dict(name=name, seed=seed, steps=num_steps, settings=settings, params=int(run.model.flat.size),
                  seconds=round(run.seconds, 1), train_loss=round(statistics.mean(run.loss_history[-100:]), 4),
                  val_loss=round(run.val_history[-1][1], 4), val_history=[[s, round(v, 4)] for s, v in run.val_history])
    if with_test:
        result["test_loss"] = round(bt.evaluate(run.model, tokenizer, split.test), 4)
    if getattr(run.optimizer, "last_weights", None) is not None:  # the run ended on its weights' average:
        run.model.flat[:] = run.optimizer.last_weights  # also measure the last weights themselves (validation)
        result["last_weights_val_loss"] = round(bt.evaluate(run.model, tokenizer, split.val), 4)
    return result


# the fifth look (--averages): the runs overfit, and each evaluation along them is lower than the last only
# thanks to the decaying rate; a moving average of the weights (ModernRunConfig.average) averages the last
# thousands of steps' weights. One run per variant (seed 42, validation), the average kept at every decay of
# AVERAGES side by side, so that each is compared with the same run's last weights
AVERAGES = (0.999, 0.9995, 0.9998, 0.9999)
AVERAGE_VARIANTS = ("fast 64x4 dropout 0.1", "fast 64x4 dropout 0.15")


def train_averages(job):
    """One run of a fast variant, with a moving average of its weights kept at every decay of AVERAGES."""
    name, changes, num_steps, seed = job
    split, tokenizer = data()
    run, settings = build(changes, num_steps, seed, tokenizer, evaluations=10)
    averages = {decay: run.model.flat.copy() for decay in AVERAGES}

    def follow(r, val_loss):  # after every step: a = d a + (1 - d) w, for every d
        for decay, average in averages.items():
            average *= decay
            average += (1 - decay) * r.model.flat

    bt.train_run(run, tokenizer, split.train, split.val, callback=follow)
    result = dict(name=name, seed=seed, steps=num_steps, settings=settings, seconds=round(run.seconds, 1),
                  val_loss=round(run.val_history[-1][1], 4), averages={})
    for decay, average in averages.items():
        run.model.flat[:] = average
        result["averages"][str(decay)] = round(bt.evaluate(run.model, tokenizer, split.val), 4)
    return result


def small_baselines(seeds):
    """The final table's first rows: the bigram counts (no seed), and microgpt itself (1000 names, one a step)."""
    import random

    from microgpt_lib.bigram import bigram_counts, bigram_loss, bigram_probs
    from microgpt_lib.model import GPTConfig
    from microgpt_lib.numpy_model import NumpyGPT, train

    split, tokenizer = data()
    probs = bigram_probs(bigram_counts(split.train, tokenizer))
    rows = [dict(name="bigram", seed=0, steps=0, seconds=0.0, val_loss=round(bigram_loss(split.val, tokenizer, probs), 4),
                 test_loss=round(bigram_loss(split.test, tokenizer, probs), 4))]
    for seed in seeds:
        model = NumpyGPT(GPTConfig(tokenizer.vocab_size), random.Random(seed))
        started = time.perf_counter()
        train(model, tokenizer, split.train, 1000)
        rows.append(dict(name="microgpt", seed=seed, steps=1000, seconds=round(time.perf_counter() - started, 1),
                         val_loss=round(bt.evaluate(model, tokenizer, split.val), 4),
                         test_loss=round(bt.evaluate(model, tokenizer, split.test), 4)))
    return rows


def load(path):
    return json.loads(path.read_text()) if path.exists() else {"bench": {}, "runs": []}


def save(path, results):
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(results, indent=1) + "\n")
    tmp.replace(path)


def summary(results):
    rows = {}
    for r in results["runs"]:
        rows.setdefault(r["name"], []).append(r)
    for name, runs in rows.items():
        vals = [r["val_loss"] for r in runs]
        spread = statistics.stdev(vals) if len(vals) > 1 else math.nan
        test = [r["test_loss"] for r in runs if "test_loss" in r]
        test_part = f"  test {statistics.mean(test):.4f}" if test else ""
        print(f"{name:16s} steps {runs[0]['steps']:6d}  val {statistics.mean(vals):.4f} ± {spread:.4f} "
              f"(n={len(vals)}){test_part}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--final", action="store_true", help="the final table's recipes, with the test split")
    parser.add_argument("--long", action="store_true", help="LONG_VARIANTS at the final table's budget (validation only)")
    parser.add_argument("--search", action="store_true",
                        help="SEARCH_VARIANTS at 5 minutes' budget (18,000 of big's steps; validation only, seed 42)")
    parser.add_argument("--fast", action="store_true",
                        help="FAST_VARIANTS (the fast engine) at the same budget (validation only, seed 42)")
    parser.add_argument("--base-steps", type=int, default=None,
                        help="the baseline's steps (default: 500 for the ablations, 11000 for --final)")
    parser.add_argument("--seeds", type=int, nargs="+", default=[42, 43, 44])
    parser.add_argument("--only", nargs="+", default=None, help="run only these variants (names as in the file)")
    parser.add_argument("--jobs", type=int, default=2, help="runs at once (at most 2 on this course's 2-core machine)")
    parser.add_argument("--bench-steps", type=int, default=20)
    parser.add_argument("--bench-rounds", type=int, default=8)
    parser.add_argument("--bench-statistic", choices=("min", "median"), default="min")
    parser.add_argument("--out", default=None)
    parser.add_argument("--averages", action="store_true",
                        help="AVERAGE_VARIANTS with moving averages of their weights (data/recipe_averages.json)")
    args = parser.parse_args()
    if args.averages:
        return averages_main(args)
    variants = (FAST_RECIPES if args.final and args.fast else RECIPES if args.final else LONG_VARIANTS if args.long
                else SEARCH_VARIANTS if args.search else FAST_VARIANTS if args.fast else VARIANTS)
    base_steps = args.base_steps or (18000 if args.final or args.search or args.fast else 5500 if args.long else 500)
    default_out = ("data/final_table_fast.json" if args.final and args.fast
                   else "data/final_table.json" if args.final else "data/ablations_long.json" if args.long
                   else "data/recipe_search.json" if args.search else "data/recipe_search_fast.json" if args.fast
                   else "data/ablations.json")
    if (args.search or args.fast) and not args.final and args.seeds == [42, 43, 44]:
        args.seeds = [42]  # a first look: one seed each; the chosen recipe gets three in the final table
    out = ROOT / (args.out or default_out)
    results = load(out)
    wanted = {k: v for k, v in variants.items() if args.only is None or k in args.only}
    twins = {k: SAME_COST_AS[k] for k in wanted if k in SAME_COST_AS and k not in results["bench"]}
    missing = {k: wanted[k] for k in wanted if k not in results["bench"] and k not in twins}
    missing.update({t: {**SEARCH_VARIANTS, **FAST_VARIANTS}[t] for t in twins.values() if t not in results["bench"]})
    if missing:
        print(f"benchmarking {len(missing)} variants side by side ...", flush=True)
        per_step = bench({"baseline": {}, **missing}, args.bench_steps, args.bench_rounds, args.bench_statistic)
        results["bench_statistic"] = args.bench_statistic
        base_time = results["bench"].get("baseline", {}).get("seconds_per_step", per_step["baseline"])
        for name in missing:
            # a variant's ratio against the baseline timed in the same rounds
            same_cost = name in SAME_COST or not missing[name]  # no change at all: the baseline itself
            ratio = 1.0 if same_cost else per_step[name] / per_step["baseline"]
            if name in NOT_CHEAPER and "engine" not in missing[name]:  # more arithmetic than the baseline, on its
                # engine: a faster timing is the machine's noise
                ratio = max(1.0, ratio)
            results["bench"][name] = dict(seconds_per_step=round(per_step[name], 5), ratio=round(ratio, 3))
        results["bench"].setdefault("baseline", dict(seconds_per_step=round(base_time, 5), ratio=1.0))
        save(out, results)
    for name, twin in twins.items():
        results["bench"][name] = dict(results["bench"][twin])
    if args.final and not any(r["name"] == "bigram" for r in results["runs"]):
        results["runs"] += small_baselines(args.seeds)
        save(out, results)
    done = {(r["name"], r["seed"], r["steps"]) for r in results["runs"]}
    jobs = []
    for seed in args.seeds:  # seed by seed: a script stopped early still has whole rows of the first seeds
        for name, changes in wanted.items():
            steps = max(1, round(base_steps / results["bench"][name]["ratio"]))
            if (name, seed, steps) not in done:
                jobs.append((name, changes, steps, seed, args.final))
    print(f"{len(jobs)} runs to do, {args.jobs} at a time", flush=True)
    with concurrent.futures.ProcessPoolExecutor(max_workers=args.jobs) as pool:
        for future in concurrent.futures.as_completed([pool.submit(train_one, job) for job in jobs]):
            result = future.result()
            result["ratio"] = results["bench"][result["name"]]["ratio"]
            results["runs"].append(result)
            save(out, results)
            print(f"{result['name']:16s} seed {result['seed']} steps {result['steps']:6d} val {result['val_loss']:.4f} "
                  f"({result['seconds']:.0f} s)", flush=True)
    summary(results)


def averages_main(args):
    """--averages: each of AVERAGE_VARIANTS at the fast search's step count, with AVERAGES kept."""
    out = ROOT / (args.out or "data/recipe_averages.json")
    results, bench = load(out), load(ROOT / "data/recipe_search_fast.json")["bench"]
    done = {r["name"] for r in results["runs"]}
    jobs = [(name, FAST_VARIANTS[name], round((args.base_steps or 18000) / bench[SAME_COST_AS.get(name, name)]["ratio"]), 42)
            for name in AVERAGE_VARIANTS if name not in done]
    print(f"{len(jobs)} runs to do, {args.jobs} at a time", flush=True)
    with concurrent.futures.ProcessPoolExecutor(max_workers=args.jobs) as pool:
        for future in concurrent.futures.as_completed([pool.submit(train_averages, job) for job in jobs]):
            result = future.result()
            results["runs"].append(result)
            save(out, results)
            print(f"{result['name']}: last weights {result['val_loss']:.4f}, averages {result['averages']}", flush=True)


if __name__ == "__main__":
    main()
