"""Chapter 12's comparison over several seeds: writes data/bpe_seeds.json.

    python scripts/bpe_seeds.py          # about 2 minutes on a free 2-core machine (20 runs)

For each seed and vocabulary size (27, 64, 128, 256 tokens), microgpt's shape is trained exactly as
chapter 12 trains it (2000 steps of 32 training names), then measured on the validation names per
character: the encoder's split only (`evaluate`) and every split summed (`exact_evaluate`). The
chapter trains seed 42 itself and checks that its numbers equal this file's.
"""
import json
import pathlib

from microgpt_lib import batch_train
from microgpt_lib.bpe import BPETokenizer
from microgpt_lib.data import load_docs, split_docs
from microgpt_lib.segmentations import exact_evaluate

SEEDS = [42, 43, 44, 45, 46]
VOCAB_SIZES = [27, 64, 128, 256]
OUT = pathlib.Path(__file__).resolve().parent.parent / "data" / "bpe_seeds.json"


def run_config(seed):
    """Chapter 12's run, every setting written out."""
    return batch_train.RunConfig(num_steps=2000, batch_size=32, lr=0.01, warmup_steps=0, beta1=0.85, beta2=0.99,
                                 weight_decay=0.0, seed=seed, pool_batches=1, eval_every=2000)


def main():
    split = split_docs(load_docs())
    largest = BPETokenizer.train(split.train, vocab_size=max(VOCAB_SIZES))
    tokenizers = {v: BPETokenizer(largest.uchars, largest.merges[: v - 27]) for v in VOCAB_SIZES}
    results = {}
    for seed in SEEDS:
        for v in VOCAB_SIZES:
            run = batch_train.start_run(batch_train.gpt_config_for(tokenizers[v]), run_config(seed))
            batch_train.train_run(run, tokenizers[v], split.train, split.val)
            val = run.val_history[-1][1]  # evaluate() on the validation names, at the last step
            exact = exact_evaluate(run.model, tokenizers[v], split.val)
            results.setdefault(str(seed), {})[str(v)] = {"val": round(val, 6), "val_exact": round(exact, 6)}
            print(f"seed {seed} vocab_size {v:>3}: val {val:.4f}, exact {exact:.4f}", flush=True)
    OUT.write_text(json.dumps({"seeds": SEEDS, "vocab_sizes": VOCAB_SIZES, "results": results}, indent=1) + "\n")
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
