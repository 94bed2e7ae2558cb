"""Plausible wrong answers to the exercises of chapter 11: each must fail its check (WRONG), and
HIDDEN_ONLY: each passes the visible check and fails only because of the hidden cases."""

WRONG = {
    "ex11_1_padding_share": [
        # every batch as wide as the longest name of all
        '''def padding_share(lengths, batch_size, sort):
    lengths = sorted(lengths) if sort else list(lengths)
    width = max(lengths)
    batches = [lengths[s : s + batch_size] for s in range(0, len(lengths), batch_size)]
    return sum(width * len(b) - sum(b) for b in batches) / sum(width * len(b) for b in batches)
''',
        # padded positions per real position, not per position
        '''def padding_share(lengths, batch_size, sort):
    lengths = sorted(lengths) if sort else list(lengths)
    batches = [lengths[s : s + batch_size] for s in range(0, len(lengths), batch_size)]
    return sum(max(b) * len(b) - sum(b) for b in batches) / sum(sum(b) for b in batches)
''',
        # sort ignored
        '''def padding_share(lengths, batch_size, sort):
    batches = [lengths[s : s + batch_size] for s in range(0, len(lengths), batch_size)]
    return sum(max(b) * len(b) - sum(b) for b in batches) / sum(max(b) * len(b) for b in batches)
''',
        # the mean of the batches' shares
        '''def padding_share(lengths, batch_size, sort):
    lengths = sorted(lengths) if sort else list(lengths)
    batches = [lengths[s : s + batch_size] for s in range(0, len(lengths), batch_size)]
    return sum(1 - sum(b) / (max(b) * len(b)) for b in batches) / len(batches)
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
    "ex11_3_wsd_lr": [
        # warm-up from 0: the first step has no learning rate at all
        '''def wsd_lr(step, num_steps, lr, warmup_steps, decay_steps):
    if step < warmup_steps:
        return lr * step / warmup_steps
    decay_start = num_steps - decay_steps
    if step < decay_start:
        return lr
    return lr * (1 - (step - decay_start) / decay_steps)
''',
        # the decay reaches 0 on the last step instead of after it
        '''def wsd_lr(step, num_steps, lr, warmup_steps, decay_steps):
    if step < warmup_steps:
        return lr * (step + 1) / warmup_steps
    decay_start = num_steps - decay_steps
    if step < decay_start:
        return lr
    return lr * (num_steps - 1 - step) / decay_steps
''',
        # the chapter's schedule: the decay starts right after the warm-up (no stable phase)
        '''def wsd_lr(step, num_steps, lr, warmup_steps, decay_steps):
    if step < warmup_steps:
        return lr * (step + 1) / warmup_steps
    return lr * (1 - (step - warmup_steps) / (num_steps - warmup_steps))
''',
        # the decay counted from the warm-up's end
        '''def wsd_lr(step, num_steps, lr, warmup_steps, decay_steps):
    if step < warmup_steps:
        return lr * (step + 1) / warmup_steps
    if step < num_steps - decay_steps:
        return lr
    return lr * (1 - (step - warmup_steps) / decay_steps)
''',
    ],
    "ex11_4_accumulate": [
        # the plain mean of the gradients: every micro-batch weighs the same
        '''def accumulate(grads, masks):
    return sum(grads) / len(grads)
''',
        # the plain sum
        '''def accumulate(grads, masks):
    return sum(grads)
''',
        # weighted by the number of names, not of predictions
        '''def accumulate(grads, masks):
    rows = [mask.shape[0] for mask in masks]
    return sum(grad * n / sum(rows) for grad, n in zip(grads, rows))
''',
        # weighted by the number of predictions, but not normalised
        '''def accumulate(grads, masks):
    return sum(grad * mask.sum() for grad, mask in zip(grads, masks))
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
    "ex11_1_padding_share": [
        # the batches cut as `next_batch` cuts a pool: a last, shorter batch is left out
        '''def padding_share(lengths, batch_size, sort):
    lengths = sorted(lengths) if sort else list(lengths)
    batches = [lengths[s : s + batch_size] for s in range(0, len(lengths) - batch_size + 1, batch_size)]
    return sum(max(b) * len(b) - sum(b) for b in batches) / sum(max(b) * len(b) for b in batches)
''',
    ],
    "ex11_2_batch_loss": [
        # forgets the mask in the sum: right only while the padding holds a loss of 0
        '''def batch_loss_from_nll(nll, mask):
    return (nll.sum(axis=1) / mask.sum(axis=1)).mean()
''',
    ],
    "ex11_3_wsd_lr": [
        # the decay's length copied from the warm-up line: right while decay_steps == warmup_steps
        '''def wsd_lr(step, num_steps, lr, warmup_steps, decay_steps):
    if step < warmup_steps:
        return lr * (step + 1) / warmup_steps
    decay_start = num_steps - decay_steps
    if step < decay_start:
        return lr
    return lr * (1 - (step - decay_start) / warmup_steps)
''',
    ],
    "ex11_4_accumulate": [
        # weighted by the size of each rectangle: right only while no micro-batch holds padding
        '''def accumulate(grads, masks):
    sizes = [mask.size for mask in masks]
    return sum(grad * n / sum(sizes) for grad, n in zip(grads, sizes))
''',
    ],
    "ex11_5_early_stopping": [
        # a tie counted as an improvement (the visible curves have no ties)
        WRONG["ex11_5_early_stopping"][0],
    ],
}
