"""Plausible wrong answers to the exercises of chapter 11: each must fail its check (WRONG), and
HIDDEN_ONLY: each passes the visible check and fails only because of the hidden cases."""

WRONG = {
    "ex11_1_padding_mask": [
        # <= instead of <: one padding position too many
        '''def padding_mask(lengths, T):
    return (np.arange(T)[None, :] <= np.asarray(lengths)[:, None]).astype(float)
''',
        # the width of the longest name instead of T
        '''def padding_mask(lengths, T):
    return (np.arange(max(lengths))[None, :] < np.asarray(lengths)[:, None]).astype(float)
''',
        # transposed: (T, B)
        '''def padding_mask(lengths, T):
    return (np.arange(T)[:, None] < np.asarray(lengths)[None, :]).astype(float)
''',
        # everything counts
        '''def padding_mask(lengths, T):
    return np.ones((len(lengths), T))
''',
    ],
    "ex11_2_batch_loss": [
        # the padding counted
        '''def batch_loss_from_nll(nll, mask):
    return nll.mean()
''',
        # the padding zeroed but still counted in the mean
        '''def batch_loss_from_nll(nll, mask):
    return (nll * mask).mean()
''',
        # the mean per character, not per name
        '''def batch_loss_from_nll(nll, mask):
    return (nll * mask).sum() / mask.sum()
''',
        # each row's sum divided by the width of the rectangle
        '''def batch_loss_from_nll(nll, mask):
    return ((nll * mask).sum(axis=1) / nll.shape[1]).mean()
''',
    ],
    "ex11_3_validation_loss": [
        # the mean of the per-name means
        '''def validation_loss(model, tokenizer, docs):
    means = []
    for doc in docs:
        tokens = tokenizer.tokenize(doc)
        logits = model(np.array([tokens[:-1]])).data[0]
        z = logits - logits.max(axis=1, keepdims=True)
        log_probs = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
        means.append(-log_probs[np.arange(len(tokens) - 1), tokens[1:]].mean())
    return sum(means) / len(means)
''',
        # the closing BOS left out
        '''def validation_loss(model, tokenizer, docs):
    total, count = 0.0, 0
    for doc in docs:
        tokens = tokenizer.tokenize(doc)
        logits = model(np.array([tokens[:-1]])).data[0]
        z = logits - logits.max(axis=1, keepdims=True)
        log_probs = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
        total -= log_probs[np.arange(len(tokens) - 2), tokens[1:-1]].sum()
        count += len(tokens) - 2
    return total / count
''',
        # divided by the characters only (the closing BOS predicted but not counted)
        '''def validation_loss(model, tokenizer, docs):
    total, count = 0.0, 0
    for doc in docs:
        tokens = tokenizer.tokenize(doc)
        logits = model(np.array([tokens[:-1]])).data[0]
        z = logits - logits.max(axis=1, keepdims=True)
        log_probs = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
        total -= log_probs[np.arange(len(tokens) - 1), tokens[1:]].sum()
        count += len(doc)
    return total / count
''',
        # the logits taken as log-probabilities (no softmax)
        '''def validation_loss(model, tokenizer, docs):
    total, count = 0.0, 0
    for doc in docs:
        tokens = tokenizer.tokenize(doc)
        logits = model(np.array([tokens[:-1]])).data[0]
        total -= logits[np.arange(len(tokens) - 1), tokens[1:]].sum()
        count += len(tokens) - 1
    return total / count
''',
        # off by one: each position scored against its own input token
        '''def validation_loss(model, tokenizer, docs):
    total, count = 0.0, 0
    for doc in docs:
        tokens = tokenizer.tokenize(doc)
        logits = model(np.array([tokens[:-1]])).data[0]
        z = logits - logits.max(axis=1, keepdims=True)
        log_probs = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
        total -= log_probs[np.arange(len(tokens) - 1), tokens[:-1]].sum()
        count += len(tokens) - 1
    return total / count
''',
    ],
    "ex11_4_resume": [
        # the weights only: Adam restarts from zero moments
        '''def save_state(run):
    version, internal, gauss_next = run.rng.getstate()
    return {"flat": run.model.flat.tolist(), "step": run.step, "loss_history": list(run.loss_history),
            "rng": [version, list(internal), gauss_next]}


def load_state(state, run):
    run.model.flat[:] = state["flat"]
    run.step = state["step"]
    run.loss_history = list(state["loss_history"])
    version, internal, gauss_next = state["rng"]
    run.rng.setstate((version, tuple(internal), gauss_next))
''',
        # no generator state: other batches come next
        '''def save_state(run):
    return {"flat": run.model.flat.tolist(), "m": run.optimizer.m.tolist(), "v": run.optimizer.v.tolist(),
            "step": run.step, "loss_history": list(run.loss_history)}


def load_state(state, run):
    run.model.flat[:] = state["flat"]
    run.optimizer.m = np.array(state["m"])
    run.optimizer.v = np.array(state["v"])
    run.step = state["step"]
    run.loss_history = list(state["loss_history"])
''',
        # a new array for the weights: the parameters stay views of the old one
        '''def save_state(run):
    version, internal, gauss_next = run.rng.getstate()
    return {"flat": run.model.flat.tolist(), "m": run.optimizer.m.tolist(), "v": run.optimizer.v.tolist(),
            "step": run.step, "loss_history": list(run.loss_history), "rng": [version, list(internal), gauss_next]}


def load_state(state, run):
    run.model.flat = np.array(state["flat"])
    run.optimizer.m = np.array(state["m"])
    run.optimizer.v = np.array(state["v"])
    run.step = state["step"]
    run.loss_history = list(state["loss_history"])
    version, internal, gauss_next = state["rng"]
    run.rng.setstate((version, tuple(internal), gauss_next))
''',
        # the step forgotten: training starts again from step 0
        '''def save_state(run):
    version, internal, gauss_next = run.rng.getstate()
    return {"flat": run.model.flat.tolist(), "m": run.optimizer.m.tolist(), "v": run.optimizer.v.tolist(),
            "rng": [version, list(internal), gauss_next]}


def load_state(state, run):
    run.model.flat[:] = state["flat"]
    run.optimizer.m = np.array(state["m"])
    run.optimizer.v = np.array(state["v"])
    version, internal, gauss_next = state["rng"]
    run.rng.setstate((version, tuple(internal), gauss_next))
''',
        # the seed saved instead of the generator's state: the batches of steps 1-6 come again
        '''def save_state(run):
    import random
    return {"flat": run.model.flat.tolist(), "m": run.optimizer.m.tolist(), "v": run.optimizer.v.tolist(),
            "step": run.step, "loss_history": list(run.loss_history), "seed": 7}


def load_state(state, run):
    import random
    run.model.flat[:] = state["flat"]
    run.optimizer.m = np.array(state["m"])
    run.optimizer.v = np.array(state["v"])
    run.step = state["step"]
    run.loss_history = list(state["loss_history"])
    run.rng.seed(state["seed"])  # the seed, not the state: the batches of steps 1-6 come again
''',
    ],
}

WRONG["ex11_5_early_stopping"] = [
    # a tie counted as an improvement: the best step moves to a later, equal loss
    '''def early_stopping(val_history, patience):
    best_step, best_val, waited = None, float("inf"), 0
    for step, val in val_history:
        if val <= best_val:
            best_step, best_val, waited = step, val, 0
        else:
            waited += 1
            if waited == patience:
                return step, best_step
    return val_history[-1][0], best_step
''',
    # stops at the best step instead of where patience ran out
    '''def early_stopping(val_history, patience):
    best_step, best_val, waited = None, float("inf"), 0
    for step, val in val_history:
        if val < best_val:
            best_step, best_val, waited = step, val, 0
        else:
            waited += 1
            if waited == patience:
                return best_step, best_step
    return val_history[-1][0], best_step
''',
    # never resets the counter: any patience-many bad evaluations, in a row or not, stop it
    '''def early_stopping(val_history, patience):
    best_step, best_val, waited = None, float("inf"), 0
    for step, val in val_history:
        if val < best_val:
            best_step, best_val = step, val
        else:
            waited += 1
            if waited == patience:
                return step, best_step
    return val_history[-1][0], best_step
''',
    # keeps the last weights, not the best
    '''def early_stopping(val_history, patience):
    best_val, waited = float("inf"), 0
    for step, val in val_history:
        if val < best_val:
            best_val, waited = val, 0
        else:
            waited += 1
            if waited == patience:
                return step, step
    return val_history[-1][0], val_history[-1][0]
''',
]

HIDDEN_ONLY = {
    "ex11_1_padding_mask": [
        # keeps the last column for padding: wrong when a name fills its whole row (T == its length)
        '''def padding_mask(lengths, T):
    mask = np.zeros((len(lengths), T))
    for b, n in enumerate(lengths):
        mask[b, : min(n, T - 1)] = 1.0
    return mask
''',
    ],
    "ex11_2_batch_loss": [
        # forgets the mask in the sum: right only while the padding holds a loss of 0
        '''def batch_loss_from_nll(nll, mask):
    return (nll.sum(axis=1) / mask.sum(axis=1)).mean()
''',
    ],
    "ex11_3_validation_loss": [
        # BOS written as 26, the id it has with a-z only: wrong for any other vocabulary
        '''def validation_loss(model, tokenizer, docs):
    total, count = 0.0, 0
    for doc in docs:
        tokens = [26] + tokenizer.encode(doc) + [26]
        logits = model(np.array([tokens[:-1]])).data[0]
        z = logits - logits.max(axis=1, keepdims=True)
        log_probs = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
        total -= log_probs[np.arange(len(tokens) - 1), tokens[1:]].sum()
        count += len(tokens) - 1
    return total / count
''',
    ],
    "ex11_4_resume": [
        # everything but the pending batches: right only when batches are drawn one at a time
        '''def save_state(run):
    version, internal, gauss_next = run.rng.getstate()
    return {"flat": run.model.flat.tolist(), "m": run.optimizer.m.tolist(), "v": run.optimizer.v.tolist(),
            "step": run.step, "loss_history": list(run.loss_history), "rng": [version, list(internal), gauss_next]}


def load_state(state, run):
    run.model.flat[:] = state["flat"]
    run.optimizer.m = np.array(state["m"])
    run.optimizer.v = np.array(state["v"])
    run.step = state["step"]
    run.loss_history = list(state["loss_history"])
    version, internal, gauss_next = state["rng"]
    run.rng.setstate((version, tuple(internal), gauss_next))
''',
    ],
    "ex11_5_early_stopping": [
        # a tie counted as an improvement (the visible curves have no ties)
        WRONG["ex11_5_early_stopping"][0],
    ],
}
