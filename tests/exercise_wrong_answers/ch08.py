"""Plausible wrong answers to the exercises of chapter 08.

WRONG: each must fail its check cell, hidden cases included.
HIDDEN_ONLY: each passes the visible check and fails only because of the hidden cases.
"""

PARSE = '''def parse_run(lines):
    run = {{"losses": [], "samples": []}}
    for line in lines:
        if line.startswith("num docs: "):
            run["num_docs"] = {num}
        elif line.startswith("vocab size: "):
            run["vocab_size"] = int(line.split(": ")[1])
        elif line.startswith("num params: "):
            run["num_params"] = int(line.split(": ")[1])
        elif line.startswith("step "):
            run["losses"].append({loss})
        elif line.startswith("sample "):
            run["samples"].append({name})
    return run
'''
PARSE_RIGHT = dict(num='int(line.split(": ")[1])', loss='float(line.split("loss ")[1])', name='line.split(": ", 1)[1]')

DIFF = '''def checkpoint_diff(path_a, path_b):
    with open(path_a, encoding="utf-8") as f:
        sd_a = json.load(f)["state_dict"]
    with open(path_b, encoding="utf-8") as f:
        sd_b = json.load(f)["state_dict"]
    return {{name: {largest}(({diff}) for row_a, row_b in zip(sd_a[name], sd_b[name]) for a, b in zip(row_a, row_b))
            for name in {names}}}
'''
DIFF_RIGHT = dict(largest="max", diff="abs(a - b)", names="sd_a")

WRONG = {
    "ex08_1_parse_run": [
        # the losses kept as text
        PARSE.format(**{**PARSE_RIGHT, "loss": 'line.split("loss ")[1]'}),
        # the step number read as the loss
        PARSE.format(**{**PARSE_RIGHT, "loss": 'float(line.split()[1])'}),
        # the sizes kept as text
        PARSE.format(**{**PARSE_RIGHT, "num": 'line.split(": ")[1]'}),
        # the sample's number kept with its name
        PARSE.format(**{**PARSE_RIGHT, "name": 'line[len("sample "):]'}),
    ],
    "ex08_2_checkpoint_diff": [
        # the sum of the differences, not the largest
        DIFF.format(**{**DIFF_RIGHT, "largest": "sum"}),
        # only the matrices that differ
        '''def checkpoint_diff(path_a, path_b):
    with open(path_a, encoding="utf-8") as f:
        sd_a = json.load(f)["state_dict"]
    with open(path_b, encoding="utf-8") as f:
        sd_b = json.load(f)["state_dict"]
    diffs = {name: max(abs(a - b) for row_a, row_b in zip(sd_a[name], sd_b[name]) for a, b in zip(row_a, row_b))
             for name in sd_a}
    return {name: diff for name, diff in diffs.items() if diff > 0}
''',
        # the matrices in alphabetical order
        DIFF.format(**{**DIFF_RIGHT, "names": "sorted(sd_a)"}),
        # only the first row of each matrix compared
        DIFF.format(**{**DIFF_RIGHT, "diff": "abs(a - b) if row_a is sd_a[name][0] else 0.0"}),
    ],
    "ex08_3_microgpt_lines": [
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

WRONG["ex08_4_save_and_resume"] = [
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

HIDDEN_ONLY = {
    "ex08_1_parse_run": [
        # the name as the last word of the line: an empty name becomes the sample's number
        PARSE.format(**{**PARSE_RIGHT, "name": "line.split()[-1]"}),
    ],
    "ex08_2_checkpoint_diff": [
        # a - b without abs: a weight of the second file that moved up is missed
        DIFF.format(**{**DIFF_RIGHT, "diff": "a - b"}),
    ],
    "ex08_3_microgpt_lines": [
        # n_layer not passed on: the config's default single layer
        '''def microgpt_lines(seed, n_embd, n_head, n_layer, block_size, num_steps, temperature, num_samples):
    rng = random.Random(seed)
    docs = shuffled(load_docs(), rng)
    tokenizer = Tokenizer.from_docs(docs)
    lines = [f"num docs: {len(docs)}", f"vocab size: {tokenizer.vocab_size}"]
    model = GPT(GPTConfig(tokenizer.vocab_size, n_embd, n_head, block_size=block_size), rng)
    lines.append(f"num params: {len(model.params)}")

    def log_step(step, num_steps, loss):
        lines.append(format_step(step, num_steps, loss))

    train(model, tokenizer, docs, num_steps, callback=log_step)
    lines += ["", "--- inference (new, hallucinated names) ---"]
    for i, name in enumerate(sample_names(model, tokenizer, rng, num_samples, temperature), start=1):
        lines.append(f"sample {i:2d}: {name}")
    return lines
''',
    ],
    "ex08_4_save_and_resume": [
        # m and v saved and restored, the settings not: right only for a run with Adam's default lr
        SAVE_RUN + RESUME_RUN.format(**RIGHT),
    ],
}
