"""microgpt, rebuilt piece by piece: the finished pieces of the course, a module per idea.

data -> tokenizer -> autograd -> nn -> model -> optim -> train -> sample -> checkpoint,
with viz for pictures and cli for `python -m microgpt_lib`.
"""

__version__ = "0.1.0"
