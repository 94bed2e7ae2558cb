"""Plausible wrong answers to the exercises of chapter 05.

WRONG: each must fail its check cell, hidden cases included.
HIDDEN_ONLY: each passes the visible check and fails only because of the hidden cases.
"""

WRONG = {
    "ex05_1_num_params": [
        # tying ignored: lm_head counted always
        '''def num_params(vocab_size, n_embd, n_layer, block_size, mlp_hidden, tied):
    outside = (2 * vocab_size + block_size) * n_embd
    return outside + n_layer * (4 * n_embd * n_embd + 2 * mlp_hidden * n_embd)
''',
        # the MLP as 4 * n_embd whatever mlp_hidden says
        '''def num_params(vocab_size, n_embd, n_layer, block_size, mlp_hidden, tied):
    outside = (vocab_size + block_size + (0 if tied else vocab_size)) * n_embd
    return outside + n_layer * (4 * n_embd * n_embd + 2 * 4 * n_embd * n_embd)
''',
        # only three attention matrices (attn_wo forgotten)
        '''def num_params(vocab_size, n_embd, n_layer, block_size, mlp_hidden, tied):
    outside = (vocab_size + block_size + (0 if tied else vocab_size)) * n_embd
    return outside + n_layer * (3 * n_embd * n_embd + 2 * mlp_hidden * n_embd)
''',
    ],
    "ex05_2_gelu": [
        # relu, not gelu
        '''def gelu(x):
    return x.relu()
''',
        # the cubic term forgotten
        '''def gelu(x):
    u = (2 / math.pi) ** 0.5 * x
    if u.data >= 0:
        e = (-2 * u).exp()
        tanh = (1 - e) / (1 + e)
    else:
        e = (2 * u).exp()
        tanh = (e - 1) / (e + 1)
    return 0.5 * x * (1 + tanh)
''',
        # math.tanh on the float: the right number, but no gradient
        '''def gelu(x):
    u = (2 / math.pi) ** 0.5 * (x.data + 0.044715 * x.data**3)
    return Value(0.5 * x.data * (1 + math.tanh(u)))
''',
    ],
    "ex05_3_parallel_block": [
        # in sequence, as microgpt: the MLP reads the stream after attention
        '''def parallel_block(x, li, keys, values, state_dict, n_head):
    sd = state_dict
    x_norm = rmsnorm(x)
    q = linear(x_norm, sd[f"layer{li}.attn_wq"])
    keys[li].append(linear(x_norm, sd[f"layer{li}.attn_wk"]))
    values[li].append(linear(x_norm, sd[f"layer{li}.attn_wv"]))
    x = [a + b for a, b in zip(x, linear(attention(q, keys[li], values[li], n_head), sd[f"layer{li}.attn_wo"]))]
    return [a + b for a, b in zip(x, mlp(rmsnorm(x), sd[f"layer{li}.mlp_fc1"], sd[f"layer{li}.mlp_fc2"]))]
''',
        # the residual forgotten
        '''def parallel_block(x, li, keys, values, state_dict, n_head):
    sd = state_dict
    x_norm = rmsnorm(x)
    q = linear(x_norm, sd[f"layer{li}.attn_wq"])
    keys[li].append(linear(x_norm, sd[f"layer{li}.attn_wk"]))
    values[li].append(linear(x_norm, sd[f"layer{li}.attn_wv"]))
    x_attn = linear(attention(q, keys[li], values[li], n_head), sd[f"layer{li}.attn_wo"])
    x_mlp = mlp(x_norm, sd[f"layer{li}.mlp_fc1"], sd[f"layer{li}.mlp_fc2"])
    return [b + c for b, c in zip(x_attn, x_mlp)]
''',
        # the MLP reads the raw x, not its normalised copy
        '''def parallel_block(x, li, keys, values, state_dict, n_head):
    sd = state_dict
    x_norm = rmsnorm(x)
    q = linear(x_norm, sd[f"layer{li}.attn_wq"])
    keys[li].append(linear(x_norm, sd[f"layer{li}.attn_wk"]))
    values[li].append(linear(x_norm, sd[f"layer{li}.attn_wv"]))
    x_attn = linear(attention(q, keys[li], values[li], n_head), sd[f"layer{li}.attn_wo"])
    x_mlp = mlp(x, sd[f"layer{li}.mlp_fc1"], sd[f"layer{li}.mlp_fc2"])
    return [a + b + c for a, b, c in zip(x, x_attn, x_mlp)]
''',
        # the cache forgotten: each position attends only to itself
        '''def parallel_block(x, li, keys, values, state_dict, n_head):
    sd = state_dict
    x_norm = rmsnorm(x)
    q = linear(x_norm, sd[f"layer{li}.attn_wq"])
    k = linear(x_norm, sd[f"layer{li}.attn_wk"])
    v = linear(x_norm, sd[f"layer{li}.attn_wv"])
    x_attn = linear(attention(q, [k], [v], n_head), sd[f"layer{li}.attn_wo"])
    x_mlp = mlp(x_norm, sd[f"layer{li}.mlp_fc1"], sd[f"layer{li}.mlp_fc2"])
    return [a + b + c for a, b, c in zip(x, x_attn, x_mlp)]
''',
    ],
    "ex05_4_gpt": [
        # an rmsnorm before lm_head (as GPT-2 has, not microgpt)
        '''def gpt(token_id, pos_id, keys, values, state_dict, config):
    sd = state_dict
    x = rmsnorm([t + p for t, p in zip(sd["wte"][token_id], sd["wpe"][pos_id])])
    for li in range(config.n_layer):
        x_norm = rmsnorm(x)
        q = linear(x_norm, sd[f"layer{li}.attn_wq"])
        keys[li].append(linear(x_norm, sd[f"layer{li}.attn_wk"]))
        values[li].append(linear(x_norm, sd[f"layer{li}.attn_wv"]))
        x_attn = attention(q, keys[li], values[li], config.n_head)
        x = [a + b for a, b in zip(linear(x_attn, sd[f"layer{li}.attn_wo"]), x)]
        hidden = relu(linear(rmsnorm(x), sd[f"layer{li}.mlp_fc1"]))
        x = [a + b for a, b in zip(linear(hidden, sd[f"layer{li}.mlp_fc2"]), x)]
    return linear(rmsnorm(x), sd["lm_head"])
''',
        # no rmsnorm after the embedding
        '''def gpt(token_id, pos_id, keys, values, state_dict, config):
    sd = state_dict
    x = [t + p for t, p in zip(sd["wte"][token_id], sd["wpe"][pos_id])]
    for li in range(config.n_layer):
        x_norm = rmsnorm(x)
        q = linear(x_norm, sd[f"layer{li}.attn_wq"])
        keys[li].append(linear(x_norm, sd[f"layer{li}.attn_wk"]))
        values[li].append(linear(x_norm, sd[f"layer{li}.attn_wv"]))
        x_attn = attention(q, keys[li], values[li], config.n_head)
        x = [a + b for a, b in zip(linear(x_attn, sd[f"layer{li}.attn_wo"]), x)]
        hidden = relu(linear(rmsnorm(x), sd[f"layer{li}.mlp_fc1"]))
        x = [a + b for a, b in zip(linear(hidden, sd[f"layer{li}.mlp_fc2"]), x)]
    return linear(x, sd["lm_head"])
''',
        # the blocks in the wrong order: MLP first
        '''def gpt(token_id, pos_id, keys, values, state_dict, config):
    sd = state_dict
    x = rmsnorm([t + p for t, p in zip(sd["wte"][token_id], sd["wpe"][pos_id])])
    for li in range(config.n_layer):
        hidden = relu(linear(rmsnorm(x), sd[f"layer{li}.mlp_fc1"]))
        x = [a + b for a, b in zip(linear(hidden, sd[f"layer{li}.mlp_fc2"]), x)]
        x_norm = rmsnorm(x)
        q = linear(x_norm, sd[f"layer{li}.attn_wq"])
        keys[li].append(linear(x_norm, sd[f"layer{li}.attn_wk"]))
        values[li].append(linear(x_norm, sd[f"layer{li}.attn_wv"]))
        x_attn = attention(q, keys[li], values[li], config.n_head)
        x = [a + b for a, b in zip(linear(x_attn, sd[f"layer{li}.attn_wo"]), x)]
    return linear(x, sd["lm_head"])
''',
    ],
    "ex05_5_tie_weights": [
        # equal numbers, but copies: the two ends do not share Values
        '''def tie_weights(model):
    model.state_dict["lm_head"] = [[Value(p.data) for p in row] for row in model.state_dict["wte"]]
    model.params = [p for mat in model.state_dict.values() for row in mat for p in row]
    return len(model.params)
''',
        # tied, but model.params not rebuilt: it still lists the old lm_head
        '''def tie_weights(model):
    model.state_dict["lm_head"] = model.state_dict["wte"]
    return len(model.params) - len(model.state_dict["wte"]) * len(model.state_dict["wte"][0])
''',
        # tied the wrong way round: wte replaced by lm_head
        '''def tie_weights(model):
    model.state_dict["wte"] = model.state_dict["lm_head"]
    params, seen = [], set()
    for mat in model.state_dict.values():
        for row in mat:
            for p in row:
                if id(p) not in seen:
                    seen.add(id(p))
                    params.append(p)
    model.params = params
    return len(params)
''',
        # every Value of the state_dict listed, wte twice
        '''def tie_weights(model):
    model.state_dict["lm_head"] = model.state_dict["wte"]
    model.params = [p for mat in model.state_dict.values() for row in mat for p in row]
    return len(model.params)
''',
    ],
}

HIDDEN_ONLY = {
    "ex05_1_num_params": [
        # the layers' matrices counted once, whatever n_layer is
        '''def num_params(vocab_size, n_embd, n_layer, block_size, mlp_hidden, tied):
    outside = (vocab_size + block_size + (0 if tied else vocab_size)) * n_embd
    return outside + 4 * n_embd * n_embd + 2 * mlp_hidden * n_embd
''',
    ],
    "ex05_2_gelu": [
        # tanh from exp(2u) for every u: overflows for a large input
        '''def gelu(x):
    u = (2 / math.pi) ** 0.5 * (x + 0.044715 * x**3)
    e = (2 * u).exp()
    return 0.5 * x * (1 + (e - 1) / (e + 1))
''',
    ],
    "ex05_3_parallel_block": [
        # layer 0's matrices and cache written in: right only for a one-layer model
        '''def parallel_block(x, li, keys, values, state_dict, n_head):
    sd = state_dict
    x_norm = rmsnorm(x)
    q = linear(x_norm, sd["layer0.attn_wq"])
    keys[0].append(linear(x_norm, sd["layer0.attn_wk"]))
    values[0].append(linear(x_norm, sd["layer0.attn_wv"]))
    x_attn = linear(attention(q, keys[0], values[0], n_head), sd["layer0.attn_wo"])
    x_mlp = mlp(x_norm, sd["layer0.mlp_fc1"], sd["layer0.mlp_fc2"])
    return [a + b + c for a, b, c in zip(x, x_attn, x_mlp)]
''',
    ],
    "ex05_4_gpt": [
        # one layer only, however many the config has
        '''def gpt(token_id, pos_id, keys, values, state_dict, config):
    sd = state_dict
    x = rmsnorm([t + p for t, p in zip(sd["wte"][token_id], sd["wpe"][pos_id])])
    x_norm = rmsnorm(x)
    q = linear(x_norm, sd["layer0.attn_wq"])
    keys[0].append(linear(x_norm, sd["layer0.attn_wk"]))
    values[0].append(linear(x_norm, sd["layer0.attn_wv"]))
    x_attn = attention(q, keys[0], values[0], config.n_head)
    x = [a + b for a, b in zip(linear(x_attn, sd["layer0.attn_wo"]), x)]
    hidden = relu(linear(rmsnorm(x), sd["layer0.mlp_fc1"]))
    x = [a + b for a, b in zip(linear(hidden, sd["layer0.mlp_fc2"]), x)]
    return linear(x, sd["lm_head"])
''',
    ],
    "ex05_5_tie_weights": [
        # duplicates told apart by their number, not their identity: equal weights are dropped
        '''def tie_weights(model):
    model.state_dict["lm_head"] = model.state_dict["wte"]
    params, seen = [], set()
    for mat in model.state_dict.values():
        for row in mat:
            for p in row:
                if p.data not in seen:
                    seen.add(p.data)
                    params.append(p)
    model.params = params
    return len(params)
''',
    ],
}
