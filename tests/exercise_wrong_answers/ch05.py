"""Plausible wrong answers to the exercises of chapter 05; each must fail its check."""

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
        '''def embed(state_dict, token_id, pos_id):
    return [t + p for t, p in zip(state_dict["wte"][token_id], state_dict["wpe"][pos_id])]
''',
        # each table normalised on its own, then added
        '''def embed(state_dict, token_id, pos_id):
    return [t + p for t, p in zip(rmsnorm(state_dict["wte"][token_id]), rmsnorm(state_dict["wpe"][pos_id]))]
''',
        # the position forgotten
        '''def embed(state_dict, token_id, pos_id):
    return rmsnorm(state_dict["wte"][token_id])
''',
        # the position's row taken from the wrong end of wpe
        '''def embed(state_dict, token_id, pos_id):
    x = [t + p for t, p in zip(state_dict["wte"][token_id], state_dict["wpe"][-pos_id - 1])]
    return rmsnorm(x)
''',
    ],
    "ex05_3_mlp_block": [
        # the residual forgotten
        '''def mlp_block(x, fc1, fc2):
    return linear(relu(linear(rmsnorm(x), fc1)), fc2)
''',
        # the normalised x added back instead of x itself
        '''def mlp_block(x, fc1, fc2):
    x_norm = rmsnorm(x)
    h = linear(relu(linear(x_norm, fc1)), fc2)
    return [a + b for a, b in zip(h, x_norm)]
''',
        # rmsnorm forgotten
        '''def mlp_block(x, fc1, fc2):
    h = linear(relu(linear(x, fc1)), fc2)
    return [a + b for a, b in zip(h, x)]
''',
        # relu forgotten: two linear maps in a row
        '''def mlp_block(x, fc1, fc2):
    h = linear(linear(rmsnorm(x), fc1), fc2)
    return [a + b for a, b in zip(h, x)]
''',
    ],
    "ex05_4_gpt": [
        # every layer appends to (and attends over) layer 0's cache
        '''def gpt(state_dict, config, token_id, pos_id, keys, values):
    sd = state_dict
    x = rmsnorm([t + p for t, p in zip(sd["wte"][token_id], sd["wpe"][pos_id])])
    for li in range(config.n_layer):
        x_residual = x
        x = rmsnorm(x)
        q = linear(x, sd[f"layer{li}.attn_wq"])
        keys[0].append(linear(x, sd[f"layer{li}.attn_wk"]))
        values[0].append(linear(x, sd[f"layer{li}.attn_wv"]))
        x_attn = attention(q, keys[0], values[0], config.n_head)
        x = [a + b for a, b in zip(linear(x_attn, sd[f"layer{li}.attn_wo"]), x_residual)]
        x_residual = x
        x = mlp(rmsnorm(x), sd[f"layer{li}.mlp_fc1"], sd[f"layer{li}.mlp_fc2"])
        x = [a + b for a, b in zip(x, x_residual)]
    return linear(x, sd["lm_head"])
''',
        # the embedding not normalised
        '''def gpt(state_dict, config, token_id, pos_id, keys, values):
    sd = state_dict
    x = [t + p for t, p in zip(sd["wte"][token_id], sd["wpe"][pos_id])]
    for li in range(config.n_layer):
        x_residual = x
        x = rmsnorm(x)
        q = linear(x, sd[f"layer{li}.attn_wq"])
        keys[li].append(linear(x, sd[f"layer{li}.attn_wk"]))
        values[li].append(linear(x, sd[f"layer{li}.attn_wv"]))
        x_attn = attention(q, keys[li], values[li], config.n_head)
        x = [a + b for a, b in zip(linear(x_attn, sd[f"layer{li}.attn_wo"]), x_residual)]
        x_residual = x
        x = mlp(rmsnorm(x), sd[f"layer{li}.mlp_fc1"], sd[f"layer{li}.mlp_fc2"])
        x = [a + b for a, b in zip(x, x_residual)]
    return linear(x, sd["lm_head"])
''',
        # an rmsnorm before lm_head (GPT-2 has one; microgpt does not)
        '''def gpt(state_dict, config, token_id, pos_id, keys, values):
    sd = state_dict
    x = rmsnorm([t + p for t, p in zip(sd["wte"][token_id], sd["wpe"][pos_id])])
    for li in range(config.n_layer):
        x_residual = x
        x = rmsnorm(x)
        q = linear(x, sd[f"layer{li}.attn_wq"])
        keys[li].append(linear(x, sd[f"layer{li}.attn_wk"]))
        values[li].append(linear(x, sd[f"layer{li}.attn_wv"]))
        x_attn = attention(q, keys[li], values[li], config.n_head)
        x = [a + b for a, b in zip(linear(x_attn, sd[f"layer{li}.attn_wo"]), x_residual)]
        x_residual = x
        x = mlp(rmsnorm(x), sd[f"layer{li}.mlp_fc1"], sd[f"layer{li}.mlp_fc2"])
        x = [a + b for a, b in zip(x, x_residual)]
    return linear(rmsnorm(x), sd["lm_head"])
''',
        # the attention block's residual forgotten
        '''def gpt(state_dict, config, token_id, pos_id, keys, values):
    sd = state_dict
    x = rmsnorm([t + p for t, p in zip(sd["wte"][token_id], sd["wpe"][pos_id])])
    for li in range(config.n_layer):
        x = rmsnorm(x)
        q = linear(x, sd[f"layer{li}.attn_wq"])
        keys[li].append(linear(x, sd[f"layer{li}.attn_wk"]))
        values[li].append(linear(x, sd[f"layer{li}.attn_wv"]))
        x_attn = attention(q, keys[li], values[li], config.n_head)
        x = linear(x_attn, sd[f"layer{li}.attn_wo"])
        x_residual = x
        x = mlp(rmsnorm(x), sd[f"layer{li}.mlp_fc1"], sd[f"layer{li}.mlp_fc2"])
        x = [a + b for a, b in zip(x, x_residual)]
    return linear(x, sd["lm_head"])
''',
    ],
}
