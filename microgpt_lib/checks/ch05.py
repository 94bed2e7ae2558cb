"""Checks for the exercises of chapter 05 (the GPT): each compares with `microgpt_lib.model`.

In every check, `__tracebackhide__ = True` asks IPython to leave the check's own frames out of a
traceback, so that a learner sees their code and the message, not the inside of the check.
"""
import random

from ..autograd import Value
from ..model import GPT, GPTConfig, attention, count_params, mlp
from ..nn import linear, nll, rmsnorm, softmax
from . import all_close, call, fail, fmt, passed


def data_of(name, xs, length, what):
    """The floats of a list of `length` Values, or a failure that says what came back instead."""
    __tracebackhide__ = True
    if not isinstance(xs, (list, tuple)) or len(xs) != length:
        fail(name, f"a list of {length} Values ({what})", fmt(xs) if isinstance(xs, (list, tuple)) else repr(xs),
             "return a list with one Value per number")
    if not all(isinstance(x, Value) for x in xs):
        fail(name, f"a list of Values ({what})", f"a list of {type(next(x for x in xs if not isinstance(x, Value))).__name__}",
             "keep every number a Value (do not take .data), so that backward can reach the parameters")
    return [x.data for x in xs]


def check_num_params(num_params):
    """num_params(vocab_size, n_embd, n_layer, block_size) against the library's count_params."""
    __tracebackhide__ = True
    name = "num_params"
    configs = [
        GPTConfig(),  # microgpt: 4192
        GPTConfig(n_layer=2),  # a second layer adds its six matrices again
        GPTConfig(block_size=8),  # fewer positions, fewer rows of wpe
        GPTConfig(vocab_size=10, n_embd=8, n_head=2, n_layer=3, block_size=4),
        GPTConfig(n_embd=8, n_head=2, n_layer=2, block_size=8),  # the 2032 of the seed-1 reference run
    ]
    for c in configs:
        expected = sum(count_params(c).values())
        got = call(name, num_params, c.vocab_size, c.n_embd, c.n_layer, c.block_size, hint="count rows x columns of every matrix")
        if got != expected:
            fail(
                name,
                f"{expected} for vocab_size={c.vocab_size}, n_embd={c.n_embd}, n_layer={c.n_layer}, block_size={c.block_size}",
                fmt(got),
                "wte and lm_head are vocab_size x n_embd, wpe is block_size x n_embd; each layer has four "
                "n_embd x n_embd attention matrices and two MLP matrices of 4*n_embd x n_embd",
            )
    passed(name, f"{len(configs)} configurations, 4192 at microgpt's defaults")


def tiny_model(n_layer=1, n_head=2, seed=0, init_std=0.08):
    """A small GPT with random weights: n_embd 8, block_size 8, the names' 27 tokens."""
    config = GPTConfig(vocab_size=27, n_embd=8, n_head=n_head, n_layer=n_layer, block_size=8, init_std=init_std)
    return GPT(config, random.Random(seed))


def random_vectors(count, n_embd, seed):
    """`count` vectors of Values, not normalised (so that a forgotten rmsnorm shows)."""
    rng = random.Random(seed)
    return [[Value(rng.gauss(0, 2.0)) for _ in range(n_embd)] for _ in range(count)]


def check_embed(embed):
    """embed(token_id, pos_id, state_dict) against the first lines of GPT.__call__."""
    __tracebackhide__ = True
    name = "embed"
    sd = tiny_model().state_dict
    hint = "token_id picks a row of wte (vocab_size rows), pos_id a row of wpe (block_size rows)"
    for token_id, pos_id in [(0, 0), (26, 7), (5, 3), (3, 5)]:
        expected = [x.data for x in rmsnorm([t + p for t, p in zip(sd["wte"][token_id], sd["wpe"][pos_id])])]
        got = data_of(name, call(name, embed, token_id, pos_id, sd, hint=hint), 8, f"token {token_id} at position {pos_id}")
        if not all_close(got, expected):
            fail(
                name,
                f"{fmt(expected)} for token {token_id} at position {pos_id}",
                fmt(got),
                "add row token_id of wte and row pos_id of wpe element by element, then rmsnorm the sum",
            )
    passed(name, "token + position, then rmsnorm, for 4 (token, position) pairs")


def check_mlp_block(mlp_block):
    """mlp_block(x, li, state_dict) against x + mlp(rmsnorm(x)) with the library's pieces, in both layers."""
    __tracebackhide__ = True
    name = "mlp_block"
    sd = tiny_model(n_layer=2, seed=5, init_std=0.5).state_dict  # large weights: every slip shows
    for li, x in zip([0, 1], random_vectors(2, 8, seed=6)):
        fc1, fc2 = sd[f"layer{li}.mlp_fc1"], sd[f"layer{li}.mlp_fc2"]
        expected = [a.data + b.data for a, b in zip(mlp(rmsnorm(x), fc1, fc2), x)]
        got = data_of(name, call(name, mlp_block, x, li, sd, hint="fc1 is 4*n_embd x n_embd, so it comes first: linear(rmsnorm(x), fc1)"), 8, f"layer {li}")
        if not all_close(got, expected):
            fail(
                name,
                f"{fmt(expected)} in layer {li}",
                fmt(got),
                f"use layer {li}'s matrices (f\"layer{{li}}.mlp_fc1\"); normalise x with rmsnorm, widen with fc1, "
                "relu, narrow with fc2, then add the block's input x itself (not its normalised copy): the residual",
            )
    passed(name, "x + fc2(relu(fc1(rmsnorm(x)))) in layers 0 and 1")


def attention_block_reference(x, li, keys, values, sd, n_head):
    x_norm = rmsnorm(x)
    q = linear(x_norm, sd[f"layer{li}.attn_wq"])
    keys[li].append(linear(x_norm, sd[f"layer{li}.attn_wk"]))
    values[li].append(linear(x_norm, sd[f"layer{li}.attn_wv"]))
    x_attn = attention(q, keys[li], values[li], n_head)
    return [a + b for a, b in zip(linear(x_attn, sd[f"layer{li}.attn_wo"]), x)]


def check_attention_block(attention_block):
    """attention_block(x, li, keys, values, state_dict, n_head) over three positions, cache included."""
    __tracebackhide__ = True
    name = "attention_block"
    model = tiny_model(n_layer=2, seed=7, init_std=0.5)
    hint = "append this position's k and v to keys[li] and values[li] before attention reads them"
    for li, n_head in [(1, 2), (0, 4)]:
        keys, values = model.empty_cache()
        my_keys, my_values = model.empty_cache()
        for pos_id, x in enumerate(random_vectors(3, 8, seed=8 + li)):
            expected = [v.data for v in attention_block_reference(x, li, keys, values, model.state_dict, n_head)]
            got = data_of(name, call(name, attention_block, x, li, my_keys, my_values, model.state_dict, n_head, hint=hint),
                          8, f"position {pos_id}")
            sizes, expected_sizes = [len(k) for k in my_keys], [len(k) for k in keys]
            if sizes != expected_sizes or [len(v) for v in my_values] != expected_sizes:
                fail(name, f"cache sizes keys {expected_sizes} and values {expected_sizes} (per layer) after position "
                           f"{pos_id} in layer {li}", f"keys {sizes} and values {[len(v) for v in my_values]}",
                     f"each call appends one k to keys[li] and one v to values[li], and touches no other layer's cache")
            if not all_close(got, expected):
                fail(
                    name,
                    f"{fmt(expected)} at position {pos_id} (layer {li}, n_head={n_head})",
                    fmt(got),
                    "rmsnorm x; q, k, v with this layer's attn_wq, attn_wk, attn_wv; append k and v to the cache; "
                    "attention(q, keys[li], values[li], n_head) over every cached position; attn_wo; "
                    "add the block's input x (the residual)",
                )
    passed(name, "three positions in layer 1 with 2 heads and in layer 0 with 4 heads, cache included")


def check_gpt(gpt):
    """gpt(token_id, pos_id, keys, values, state_dict, config) against GPT, position by position."""
    __tracebackhide__ = True
    name = "gpt"
    cases = [  # (model, tokens of a document): two layers, then four heads
        (tiny_model(n_layer=2, n_head=2, seed=1), [26, 4, 12, 12, 0, 26]),  # BOS e m m a BOS
        (tiny_model(n_layer=1, n_head=4, seed=2), [26, 25, 14, 4, 26]),  # BOS z o e BOS
    ]
    hint = "each layer appends k and v to its own cache, keys[li] and values[li], before attention reads it"
    for model, tokens in cases:
        c = model.config
        keys, values = model.empty_cache()
        my_keys, my_values = model.empty_cache()
        for pos_id, token_id in enumerate(tokens):
            expected = [logit.data for logit in model(token_id, pos_id, keys, values)]
            logits = call(name, gpt, token_id, pos_id, my_keys, my_values, model.state_dict, c, hint=hint)
            got = data_of(name, logits, c.vocab_size, "the logits")
            if not all_close(got, expected):
                fail(
                    name,
                    f"the logits {fmt(expected)} at position {pos_id} (n_layer={c.n_layer}, n_head={c.n_head})",
                    fmt(got),
                    "rmsnorm after the embedding; per layer: the attention block (with keys[li] and values[li]) "
                    "then the MLP block, each with its residual; no rmsnorm before lm_head",
                )
    passed(name, "the same logits as GPT at every position, with 2 layers and with 4 heads")


def check_tie_weights(tie_weights):
    """tie_weights(model): lm_head becomes wte's own Values, model.params lists each parameter once."""
    __tracebackhide__ = True
    name = "tie_weights"
    hint_count = ("after tying, lm_head's numbers are wte's: rebuild model.params so that it lists every Value "
                  "once, for example with a set of the ids you have seen, and return len(model.params)")
    for config, seed in [(GPTConfig(), 42), (GPTConfig(n_embd=8, n_head=2, n_layer=2, block_size=8), 3)]:
        model = GPT(config, random.Random(seed))
        draws = {key: [[p.data for p in row] for row in mat] for key, mat in model.state_dict.items()}
        label = f"{name}(GPT({'GPTConfig()' if config == GPTConfig() else 'a 2-layer config'}))"
        count = call(label, tie_weights, model, hint="change model.state_dict and model.params, then return the count")
        sd = model.state_dict
        expected = sum(count_params(config).values()) - config.vocab_size * config.n_embd
        if not isinstance(sd.get("lm_head"), list) or len(sd["lm_head"]) != config.vocab_size or not all(
            len(row) == len(wte_row) and all(a is b for a, b in zip(row, wte_row))
            for row, wte_row in zip(sd["lm_head"], sd["wte"])
        ):
            fail(label, "lm_head holding the very same Value objects as wte (lm_head[i][j] is wte[i][j])",
                 "other Values" if isinstance(sd.get("lm_head"), list) else repr(sd.get("lm_head"))[:60],
                 "model.state_dict['lm_head'] = model.state_dict['wte']: equal numbers are not enough, "
                 "the gradient of both uses must reach one Value")
        if [[p.data for p in row] for row in sd["wte"]] != draws["wte"]:
            fail(label, "wte kept as it was drawn (lm_head takes wte's numbers)", "wte changed",
                 "tie in this direction: lm_head = wte, not wte = lm_head")
        ids = [id(p) for p in model.params]
        if len(ids) != len(set(ids)):
            fail(f"{label}: model.params", f"{expected} different Values, each once",
                 f"{len(ids)} entries, {len(set(ids))} different", hint_count + ": an optimizer would move a tied weight twice")
        every = {id(p) for mat in sd.values() for row in mat for p in row}
        if set(ids) - every:
            fail(f"{label}: model.params", f"the {len(every)} Values of the state_dict",
                 f"{len(set(ids) - every)} Values that are no longer in it (the old lm_head's)",
                 "rebuild model.params from the tied state_dict: GPT built it before the tying")
        if every - set(ids):
            fail(f"{label}: model.params", f"every Value of the state_dict ({len(every)})",
                 f"{len(every - set(ids))} of them missing", "keep wte, wpe and every layer's matrices in model.params")
        if count != expected:
            fail(f"{label}: the returned count", f"{expected}", fmt(count), hint_count)
    # the tied model computes logits with wte, and its loss reaches wte from both ends
    model = tiny_model(n_layer=1, seed=11, init_std=0.5)
    reference = tiny_model(n_layer=1, seed=11, init_std=0.5)
    reference.state_dict["lm_head"] = reference.state_dict["wte"]
    call(name, tie_weights, model)
    losses = []
    for m in (model, reference):
        keys, values = m.empty_cache()
        total = Value(0.0)
        for pos_id, (token_id, target) in enumerate(zip([26, 4, 12], [4, 12, 26])):
            total = total + nll(softmax(m(token_id, pos_id, keys, values)), target)
        total.backward()
        losses.append(total.data)
    if not all_close(losses[:1], losses[1:], 1e-9):
        fail(f"{name}: a tied model's loss", fmt(losses[1]), fmt(losses[0]), "lm_head must be wte itself")
    grads = [p.grad for row in model.state_dict["wte"] for p in row]
    expected_grads = [p.grad for row in reference.state_dict["wte"] for p in row]
    if not all_close(grads, expected_grads, 1e-9):
        fail(f"{name}: the gradient of wte", fmt(expected_grads), fmt(grads),
             "wte's Values must receive the gradient of the embedding and of lm_head")
    passed(name, f"lm_head is wte, {sum(count_params(GPTConfig()).values()) - 27 * 16} parameters at microgpt's sizes (4192 untied)")
