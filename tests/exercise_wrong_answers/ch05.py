"""Plausible wrong answers to the exercises of chapter 05; each must fail its check."""

GPT_WITH = '''def gpt(token_id, pos_id, keys, values, state_dict, config):
    sd = state_dict
    x = {embedding}
    for li in range(config.n_layer):
        x_norm = rmsnorm(x)
        q = linear(x_norm, sd[f"layer{{li}}.attn_wq"])
        keys[{cache}].append(linear(x_norm, sd[f"layer{{li}}.attn_wk"]))
        values[{cache}].append(linear(x_norm, sd[f"layer{{li}}.attn_wv"]))
        x_attn = attention(q, keys[{cache}], values[{cache}], config.n_head)
        x = {attention_out}
        hidden = relu(linear(rmsnorm(x), sd[f"layer{{li}}.mlp_fc1"]))
        x = [a + b for a, b in zip(linear(hidden, sd[f"layer{{li}}.mlp_fc2"]), x)]
    return linear({final}, sd["lm_head"])
'''
RIGHT = dict(
    embedding='rmsnorm([t + p for t, p in zip(sd["wte"][token_id], sd["wpe"][pos_id])])',
    cache="li",
    attention_out='[a + b for a, b in zip(linear(x_attn, sd[f"layer{li}.attn_wo"]), x)]',
    final="x",
)

WRONG = {
    "ex05_1_num_params": [
        # lm_head forgotten: only the two embedding tables outside the layers
        '''def num_params(vocab_size, n_embd, n_layer, block_size):
    outside = (vocab_size + block_size) * n_embd
    per_layer = 4 * n_embd * n_embd + 2 * (4 * n_embd) * n_embd
    return outside + n_layer * per_layer
''',
        # the MLP's 4x widening forgotten
        '''def num_params(vocab_size, n_embd, n_layer, block_size):
    outside = (2 * vocab_size + block_size) * n_embd
    per_layer = 4 * n_embd * n_embd + 2 * n_embd * n_embd
    return outside + n_layer * per_layer
''',
        # one layer counted whatever n_layer is
        '''def num_params(vocab_size, n_embd, n_layer, block_size):
    outside = (2 * vocab_size + block_size) * n_embd
    per_layer = 4 * n_embd * n_embd + 2 * (4 * n_embd) * n_embd
    return outside + per_layer
''',
        # wpe sized by the vocabulary, not by the context
        '''def num_params(vocab_size, n_embd, n_layer, block_size):
    outside = 3 * vocab_size * n_embd
    per_layer = 12 * n_embd * n_embd
    return outside + n_layer * per_layer
''',
    ],
    "ex05_2_embed": [
        # rmsnorm forgotten
        '''def embed(token_id, pos_id, state_dict):
    return [t + p for t, p in zip(state_dict["wte"][token_id], state_dict["wpe"][pos_id])]
''',
        # each table normalised on its own, then added
        '''def embed(token_id, pos_id, state_dict):
    return [t + p for t, p in zip(rmsnorm(state_dict["wte"][token_id]), rmsnorm(state_dict["wpe"][pos_id]))]
''',
        # the position forgotten
        '''def embed(token_id, pos_id, state_dict):
    return rmsnorm(state_dict["wte"][token_id])
''',
        # the position's row taken from the wrong end of wpe
        '''def embed(token_id, pos_id, state_dict):
    x = [t + p for t, p in zip(state_dict["wte"][token_id], state_dict["wpe"][-pos_id - 1])]
    return rmsnorm(x)
''',
    ],
    "ex05_3_mlp_block": [
        # the residual forgotten
        '''def mlp_block(x, li, state_dict):
    hidden = relu(linear(rmsnorm(x), state_dict[f"layer{li}.mlp_fc1"]))
    return linear(hidden, state_dict[f"layer{li}.mlp_fc2"])
''',
        # the normalised x added back instead of x itself
        '''def mlp_block(x, li, state_dict):
    x = rmsnorm(x)
    hidden = relu(linear(x, state_dict[f"layer{li}.mlp_fc1"]))
    return [a + b for a, b in zip(linear(hidden, state_dict[f"layer{li}.mlp_fc2"]), x)]
''',
        # rmsnorm forgotten
        '''def mlp_block(x, li, state_dict):
    hidden = relu(linear(x, state_dict[f"layer{li}.mlp_fc1"]))
    return [a + b for a, b in zip(linear(hidden, state_dict[f"layer{li}.mlp_fc2"]), x)]
''',
        # relu forgotten: two linear maps in a row
        '''def mlp_block(x, li, state_dict):
    hidden = linear(rmsnorm(x), state_dict[f"layer{li}.mlp_fc1"])
    return [a + b for a, b in zip(linear(hidden, state_dict[f"layer{li}.mlp_fc2"]), x)]
''',
        # always the first layer's matrices
        '''def mlp_block(x, li, state_dict):
    hidden = relu(linear(rmsnorm(x), state_dict["layer0.mlp_fc1"]))
    return [a + b for a, b in zip(linear(hidden, state_dict["layer0.mlp_fc2"]), x)]
''',
    ],
    "ex05_4_attention_block": [
        # the residual forgotten
        '''def attention_block(x, li, keys, values, state_dict, n_head):
    x_norm = rmsnorm(x)
    q = linear(x_norm, state_dict[f"layer{li}.attn_wq"])
    keys[li].append(linear(x_norm, state_dict[f"layer{li}.attn_wk"]))
    values[li].append(linear(x_norm, state_dict[f"layer{li}.attn_wv"]))
    x_attn = attention(q, keys[li], values[li], n_head)
    return linear(x_attn, state_dict[f"layer{li}.attn_wo"])
''',
        # attention over this position only: the cache is filled but never read
        '''def attention_block(x, li, keys, values, state_dict, n_head):
    x_norm = rmsnorm(x)
    q = linear(x_norm, state_dict[f"layer{li}.attn_wq"])
    k = linear(x_norm, state_dict[f"layer{li}.attn_wk"])
    v = linear(x_norm, state_dict[f"layer{li}.attn_wv"])
    keys[li].append(k)
    values[li].append(v)
    x_attn = attention(q, [k], [v], n_head)
    return [a + b for a, b in zip(linear(x_attn, state_dict[f"layer{li}.attn_wo"]), x)]
''',
        # everything in layer 0's cache, whatever the layer
        '''def attention_block(x, li, keys, values, state_dict, n_head):
    x_norm = rmsnorm(x)
    q = linear(x_norm, state_dict[f"layer{li}.attn_wq"])
    keys[0].append(linear(x_norm, state_dict[f"layer{li}.attn_wk"]))
    values[0].append(linear(x_norm, state_dict[f"layer{li}.attn_wv"]))
    x_attn = attention(q, keys[0], values[0], n_head)
    return [a + b for a, b in zip(linear(x_attn, state_dict[f"layer{li}.attn_wo"]), x)]
''',
        # q, k and v from x before rmsnorm
        '''def attention_block(x, li, keys, values, state_dict, n_head):
    q = linear(x, state_dict[f"layer{li}.attn_wq"])
    keys[li].append(linear(x, state_dict[f"layer{li}.attn_wk"]))
    values[li].append(linear(x, state_dict[f"layer{li}.attn_wv"]))
    x_attn = attention(q, keys[li], values[li], n_head)
    return [a + b for a, b in zip(linear(x_attn, state_dict[f"layer{li}.attn_wo"]), x)]
''',
        # attn_wo forgotten: the heads' output added straight back
        '''def attention_block(x, li, keys, values, state_dict, n_head):
    x_norm = rmsnorm(x)
    q = linear(x_norm, state_dict[f"layer{li}.attn_wq"])
    keys[li].append(linear(x_norm, state_dict[f"layer{li}.attn_wk"]))
    values[li].append(linear(x_norm, state_dict[f"layer{li}.attn_wv"]))
    x_attn = attention(q, keys[li], values[li], n_head)
    return [a + b for a, b in zip(x_attn, x)]
''',
    ],
    "ex05_5_gpt": [
        # every layer appends to (and attends over) layer 0's cache
        GPT_WITH.format(**{**RIGHT, "cache": "0"}),
        # the embedding not normalised
        GPT_WITH.format(**{**RIGHT, "embedding": '[t + p for t, p in zip(sd["wte"][token_id], sd["wpe"][pos_id])]'}),
        # an rmsnorm before lm_head (GPT-2 has one; microgpt does not)
        GPT_WITH.format(**{**RIGHT, "final": "rmsnorm(x)"}),
        # the attention block's residual forgotten
        GPT_WITH.format(**{**RIGHT, "attention_out": 'linear(x_attn, sd[f"layer{li}.attn_wo"])'}),
    ],
    "ex05_6_tie_weights": [
        # copies with the same numbers: equal, not tied (the gradient of lm_head never reaches wte)
        '''def tie_weights(model):
    sd = model.state_dict
    sd["lm_head"] = [[Value(p.data) for p in row] for row in sd["wte"]]
    model.params = [p for mat in sd.values() for row in mat for p in row]
    return len(model.params)
''',
        # tied, but model.params not rebuilt: it still lists the old lm_head
        '''def tie_weights(model):
    model.state_dict["lm_head"] = model.state_dict["wte"]
    return len(model.params)
''',
        # tied, params rebuilt with every tied Value twice: an optimizer would move it twice
        '''def tie_weights(model):
    model.state_dict["lm_head"] = model.state_dict["wte"]
    model.params = [p for mat in model.state_dict.values() for row in mat for p in row]
    return len(model.params)
''',
        # the other direction: wte replaced by lm_head's draw
        '''def tie_weights(model):
    sd = model.state_dict
    sd["wte"] = sd["lm_head"]
    params, seen = [], set()
    for mat in sd.values():
        for row in mat:
            for p in row:
                if id(p) not in seen:
                    seen.add(id(p))
                    params.append(p)
    model.params = params
    return len(params)
''',
        # the right count returned, nothing tied
        '''def tie_weights(model):
    c = model.config
    return len(model.params) - c.vocab_size * c.n_embd
''',
    ],
}
