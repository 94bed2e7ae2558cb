"""Generation: feed the model its own output, one character at a time, until it says BOS."""
from .nn import softmax


def check_temperature(temperature):
    if not isinstance(temperature, (int, float)) or not temperature > 0:
        raise ValueError(f"temperature must be above 0, got {temperature!r} (1 samples as trained, lower is more cautious)")


def next_token_probs(model, token_id, pos_id, keys, values, temperature=1.0):
    """The distribution of the next token; logits are divided by `temperature` first."""
    check_temperature(temperature)
    logits = model(token_id, pos_id, keys, values)
    return softmax([logit / temperature for logit in logits])


def sample(model, tokenizer, rng, temperature=0.5):
    """One new document, drawn with the generator `rng`."""
    check_temperature(temperature)
    keys, values = model.empty_cache()
    token_id, chars = tokenizer.BOS, []
    for pos_id in range(model.config.block_size):
        probs = next_token_probs(model, token_id, pos_id, keys, values, temperature)
        token_id = rng.choices(range(tokenizer.vocab_size), weights=[p.data for p in probs])[0]
        if token_id == tokenizer.BOS:
            break
        chars.append(tokenizer.uchars[token_id])
    return "".join(chars)


def sample_names(model, tokenizer, rng, num_samples=20, temperature=0.5):
    """`num_samples` new documents, one after another from the same generator."""
    if not isinstance(num_samples, int) or num_samples < 1:
        raise ValueError(f"num_samples must be a whole number of at least 1, got {num_samples!r}")
    return [sample(model, tokenizer, rng, temperature) for _ in range(num_samples)]
