"""Plausible wrong answers to the exercises of chapter 08; each must fail its check."""

WRONG = {
    "ex08_1_diff_lines": [
        # zip stops at the shorter list: extra lines go unreported
        '''def diff_lines(lines_a, lines_b):
    return [(i + 1, a, b) for i, (a, b) in enumerate(zip(lines_a, lines_b)) if a != b]
''',
        # numbered from 0
        '''def diff_lines(lines_a, lines_b):
    diffs = []
    for i in range(max(len(lines_a), len(lines_b))):
        a = lines_a[i] if i < len(lines_a) else None
        b = lines_b[i] if i < len(lines_b) else None
        if a != b:
            diffs.append((i, a, b))
    return diffs
''',
        # a missing line shown as an empty string, not None
        '''def diff_lines(lines_a, lines_b):
    diffs = []
    for i in range(max(len(lines_a), len(lines_b))):
        a = lines_a[i] if i < len(lines_a) else ""
        b = lines_b[i] if i < len(lines_b) else ""
        if a != b:
            diffs.append((i + 1, a, b))
    return diffs
''',
    ],
    "ex08_2_max_weight_diff": [
        # no abs: a weight that moved down is not found
        '''def max_weight_diff(model_a, model_b):
    return max(a.data - b.data for a, b in zip(model_a.params, model_b.params))
''',
        # only the first matrix (the token embeddings) compared
        '''def max_weight_diff(model_a, model_b):
    return max(abs(a.data - b.data) for row_a, row_b in zip(model_a.state_dict["wte"], model_b.state_dict["wte"])
               for a, b in zip(row_a, row_b))
''',
        # the mean difference, not the largest
        '''def max_weight_diff(model_a, model_b):
    return sum(abs(a.data - b.data) for a, b in zip(model_a.params, model_b.params)) / len(model_a.params)
''',
    ],
    "ex08_3_run_training": [
        # the weights drawn before the shuffle
        '''def run_training(seed, num_steps, n_embd, n_head, n_layer, block_size):
    rng = random.Random(seed)
    model = GPT(GPTConfig(27, n_embd, n_head, n_layer, block_size), rng)
    docs = shuffled(load_docs(), rng)
    tokenizer = Tokenizer.from_docs(docs)
    return train(model, tokenizer, docs, num_steps)
''',
        # two generators with the same seed, one for the shuffle and one for the weights
        '''def run_training(seed, num_steps, n_embd, n_head, n_layer, block_size):
    docs = shuffled(load_docs(), random.Random(seed))
    tokenizer = Tokenizer.from_docs(docs)
    model = GPT(GPTConfig(tokenizer.vocab_size, n_embd, n_head, n_layer, block_size), random.Random(seed))
    return train(model, tokenizer, docs, num_steps)
''',
        # the names not shuffled
        '''def run_training(seed, num_steps, n_embd, n_head, n_layer, block_size):
    rng = random.Random(seed)
    docs = load_docs()
    tokenizer = Tokenizer.from_docs(docs)
    model = GPT(GPTConfig(tokenizer.vocab_size, n_embd, n_head, n_layer, block_size), rng)
    return train(model, tokenizer, docs, num_steps)
''',
        # the default sizes, not the ones asked for
        '''def run_training(seed, num_steps, n_embd, n_head, n_layer, block_size):
    rng = random.Random(seed)
    docs = shuffled(load_docs(), rng)
    tokenizer = Tokenizer.from_docs(docs)
    model = GPT(GPTConfig(vocab_size=tokenizer.vocab_size), rng)
    return train(model, tokenizer, docs, num_steps)
''',
    ],
    "ex08_4_microgpt_lines": [
        # samples numbered from 0
        '''def microgpt_lines(seed, n_embd, n_head, n_layer, block_size, num_steps, temperature, num_samples):
    rng = random.Random(seed)
    docs = shuffled(load_docs(), rng)
    tokenizer = Tokenizer.from_docs(docs)
    lines = [f"num docs: {len(docs)}", f"vocab size: {tokenizer.vocab_size}"]
    model = GPT(GPTConfig(tokenizer.vocab_size, n_embd, n_head, n_layer, block_size), rng)
    lines.append(f"num params: {len(model.params)}")

    def log_step(step, num_steps, loss):
        lines.append(format_step(step, num_steps, loss))

    train(model, tokenizer, docs, num_steps, callback=log_step)
    lines += ["", "--- inference (new, hallucinated names) ---"]
    for i, name in enumerate(sample_names(model, tokenizer, rng, num_samples, temperature)):
        lines.append(f"sample {i:2d}: {name}")
    return lines
''',
        # the number of matrices printed as the number of parameters
        '''def microgpt_lines(seed, n_embd, n_head, n_layer, block_size, num_steps, temperature, num_samples):
    rng = random.Random(seed)
    docs = shuffled(load_docs(), rng)
    tokenizer = Tokenizer.from_docs(docs)
    lines = [f"num docs: {len(docs)}", f"vocab size: {tokenizer.vocab_size}"]
    model = GPT(GPTConfig(tokenizer.vocab_size, n_embd, n_head, n_layer, block_size), rng)
    lines.append(f"num params: {len(model.state_dict)}")

    def log_step(step, num_steps, loss):
        lines.append(format_step(step, num_steps, loss))

    train(model, tokenizer, docs, num_steps, callback=log_step)
    lines += ["", "--- inference (new, hallucinated names) ---"]
    for i, name in enumerate(sample_names(model, tokenizer, rng, num_samples, temperature), start=1):
        lines.append(f"sample {i:2d}: {name}")
    return lines
''',
        # the samples drawn from a fresh generator instead of the one training used
        '''def microgpt_lines(seed, n_embd, n_head, n_layer, block_size, num_steps, temperature, num_samples):
    rng = random.Random(seed)
    docs = shuffled(load_docs(), rng)
    tokenizer = Tokenizer.from_docs(docs)
    lines = [f"num docs: {len(docs)}", f"vocab size: {tokenizer.vocab_size}"]
    model = GPT(GPTConfig(tokenizer.vocab_size, n_embd, n_head, n_layer, block_size), rng)
    lines.append(f"num params: {len(model.params)}")

    def log_step(step, num_steps, loss):
        lines.append(format_step(step, num_steps, loss))

    train(model, tokenizer, docs, num_steps, callback=log_step)
    lines += ["", "--- inference (new, hallucinated names) ---"]
    for i, name in enumerate(sample_names(model, tokenizer, random.Random(seed), num_samples, temperature), start=1):
        lines.append(f"sample {i:2d}: {name}")
    return lines
''',
    ],
}

SAVE_RUN = '''def save_run(path, model, tokenizer, optimizer, step, loss_history):
    save_checkpoint(path, model, tokenizer, step, loss_history)
    with open(path, encoding="utf-8") as f:
        payload = json.load(f)
    payload["adam"] = {"m": optimizer.m, "v": optimizer.v}
    with open(path, "w", encoding="utf-8") as f:
        json.dump(payload, f)


'''
RESUME_RUN = '''def resume_run(path, docs, num_steps):
    checkpoint = load_checkpoint(path)
    with open(path, encoding="utf-8") as f:
        adam_state = json.load(f)["adam"]
    optimizer = Adam(checkpoint.model.params, num_steps)
    {restore}
    losses = train(checkpoint.model, checkpoint.tokenizer, docs, num_steps, optimizer, start_step={start})
    return {result}
'''
RIGHT = dict(restore='optimizer.m, optimizer.v = adam_state["m"], adam_state["v"]', start="checkpoint.step",
             result="checkpoint.loss_history + losses")

WRONG["ex08_5_save_and_resume"] = [
    # a fresh Adam: m and v saved but never given back
    SAVE_RUN + RESUME_RUN.format(**{**RIGHT, "restore": "pass"}),
    # m restored, v forgotten
    SAVE_RUN + RESUME_RUN.format(**{**RIGHT, "restore": 'optimizer.m = adam_state["m"]'}),
    # training starts again from step 0 on the loaded model
    SAVE_RUN + RESUME_RUN.format(**{**RIGHT, "start": "0"}),
    # off by one: the step after the saved one
    SAVE_RUN + RESUME_RUN.format(**{**RIGHT, "start": "checkpoint.step + 1"}),
    # only the new losses returned
    SAVE_RUN + RESUME_RUN.format(**{**RIGHT, "result": "losses"}),
]
