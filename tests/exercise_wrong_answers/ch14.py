"""Plausible wrong answers to the exercises of chapter 14: each must fail its check (WRONG), and
HIDDEN_ONLY: each passes the visible check and fails only because of the hidden cases."""

WRONG = {
    "ex14_1_all_reduce_mean": [
        # the sum, never divided: what dist.all_reduce alone gives
        '''def all_reduce_mean(tensors):
    for t in tensors:
        dist.all_reduce(t)
''',
        # divides a new tensor: the caller's tensors hold the sum
        '''def all_reduce_mean(tensors):
    for t in tensors:
        dist.all_reduce(t)
        t = t / dist.get_world_size()
''',
        # the largest value over the processes, not the mean
        '''def all_reduce_mean(tensors):
    for t in tensors:
        dist.all_reduce(t, op=dist.ReduceOp.MAX)
''',
        # only the first tensor
        '''def all_reduce_mean(tensors):
    dist.all_reduce(tensors[0])
    tensors[0] /= dist.get_world_size()
''',
    ],
    "ex14_2_throughput": [
        # counts every token of a list (n, not the n - 1 predictions)
        '''def throughput(batches, block_size, seconds):
    real = [[min(block_size, len(t)) for t in b] for b in batches]
    tokens = sum(map(sum, real))
    computed = sum(len(r) * max(r) for r in real)
    return sum(len(b) for b in batches) / seconds, tokens / seconds, 1 - tokens / computed
''',
        # counts the computed positions as tokens (padding included)
        '''def throughput(batches, block_size, seconds):
    real = [[min(block_size, len(t) - 1) for t in b] for b in batches]
    computed = sum(len(r) * max(r) for r in real)
    return sum(len(b) for b in batches) / seconds, computed / seconds, 1 - sum(map(sum, real)) / computed
''',
        # the fraction of real positions, not of padding
        '''def throughput(batches, block_size, seconds):
    real = [[min(block_size, len(t) - 1) for t in b] for b in batches]
    tokens = sum(map(sum, real))
    computed = sum(len(r) * max(r) for r in real)
    return sum(len(b) for b in batches) / seconds, tokens / seconds, tokens / computed
''',
    ],
    "ex14_3_unscale": [
        # divides in float16: the small unscaled values round or underflow
        '''def unscale(grads, scale):
    found_inf = any(not bool(torch.isfinite(g).all()) for g in grads)
    return [g / scale for g in grads], found_inf
''',
        # multiplies by the scale instead of dividing
        '''def unscale(grads, scale):
    found_inf = any(not bool(torch.isfinite(g).all()) for g in grads)
    return [g.float() * scale for g in grads], found_inf
''',
        # says inf when everything is finite (the test inverted)
        '''def unscale(grads, scale):
    found_inf = all(bool(torch.isfinite(g).all()) for g in grads)
    return [g.float() / scale for g in grads], found_inf
''',
    ],
}

HIDDEN_ONLY = {
    "ex14_1_all_reduce_mean": [
        # divides by 2, the visible check's number of processes, not by the group's size
        '''def all_reduce_mean(tensors):
    for t in tensors:
        dist.all_reduce(t)
        t /= 2
''',
    ],
    "ex14_2_throughput": [
        # never cuts a name to the context: the visible names all fit
        '''def throughput(batches, block_size, seconds):
    real = [[len(t) - 1 for t in b] for b in batches]
    tokens = sum(map(sum, real))
    computed = sum(len(r) * max(r) for r in real)
    return sum(len(b) for b in batches) / seconds, tokens / seconds, 1 - tokens / computed
''',
    ],
    "ex14_3_unscale": [
        # never looks for an overflow: the visible gradients are all finite
        '''def unscale(grads, scale):
    return [g.float() / scale for g in grads], False
''',
    ],
}
