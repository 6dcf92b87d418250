"""Memory bank, retrieval of paraphrased questions, conversation turns, and their bad inputs."""

import pytest

from assets.artifacts import ExpressionTrack
from assets.errors import UsageError
from generation.speech import asr, memory

BANK = [
    ("answer", "Moon River, of course. Your grandfather sang it badly.", "What was your favourite song?"),
    ("answer", "I grew up on a farm near the river, with three brothers.", "Where did you grow up?"),
    ("answer", "Every summer we rented a little house by the sea.", "Where did you go on holiday?"),
    ("answer", "Apple pie with cinnamon, the way my mother made it.", "What did you like to bake?"),
    ("answer", "I was a nurse for thirty years at the city hospital.", "What was your job?"),
    ("greeting", "Hello, love. It is good to see you.", "hello good morning hi"),
    ("fallback", "I am not sure, dear. Tell me more about your day.", ""),
]
# paraphrased questions -> index of the right memory (the labelled set the issue asks for)
PARAPHRASES = [
    ("Which song did you love the most?", 0),
    ("Tell me about your favorite music", 0),
    ("Where were you raised as a child?", 1),
    ("Did you grow up on the farm?", 1),
    ("Where did you spend your summer holidays?", 2),
    ("What did you bake for us?", 3),
    ("Tell me about the apple pie", 3),
    ("What work did you do at the hospital?", 4),
    ("Hello grandma, good morning!", 5),
]


@pytest.fixture
def bank_vault(make_subject):
    vault = make_subject("rose")
    for kind, text, cue in BANK:
        memory.add(vault, text, kind, cue)
    return vault


def test_memories_keep_author_and_date(bank_vault):
    bank = memory.load_bank(bank_vault)
    assert len(bank) == len(BANK) and all(m.author == "anna" and len(m.date) == 10 for m in bank)
    removed = memory.remove(bank_vault, bank[1].id)
    assert removed.text.startswith("I grew up") and len(memory.load_bank(bank_vault)) == len(BANK) - 1
    with pytest.raises(UsageError, match="no memory with id"):
        memory.remove(bank_vault, "nope")


def test_paraphrased_questions_find_the_right_memory(bank_vault):
    bank = memory.load_bank(bank_vault)
    right = sum(memory.choose(bank, q)[0].text == BANK[k][1] for q, k in PARAPHRASES)
    assert right >= len(PARAPHRASES) - 2, f"{right}/{len(PARAPHRASES)}"


def test_unrelated_question_gets_the_authored_fallback(bank_vault):
    chosen, score, why = memory.choose(memory.load_bank(bank_vault), "How do quantum computers factor integers?")
    assert chosen.kind == "fallback" and "fallback" in why


def test_no_fallback_and_empty_bank(make_subject):
    vault = make_subject("rose")
    with pytest.raises(UsageError, match="memory bank is empty"):
        memory.choose(memory.load_bank(vault), "Hello?")
    memory.add(vault, "Moon River.", "answer", "favourite song")
    with pytest.raises(UsageError, match="no fallback line"):
        memory.choose(memory.load_bank(vault), "What is the capital of Peru?")


@pytest.mark.parametrize("text, kind, cue, words", [
    ("", "answer", "q", "empty"), ("Hi [oops]", "saying", "", "unknown markup"),
    ("Hi", "answer", "", "needs --cue"), ("Hi", "poem", "", "kind must be"),
])
def test_bad_memories(make_subject, text, kind, cue, words):
    vault = make_subject("rose")
    with pytest.raises(UsageError, match=words):
        memory.add(vault, text, kind, cue)
    assert memory.load_bank(vault) == []


def test_converse_with_text_through_the_cli(cli, bank_vault):
    r = cli("converse", "rose", "--text", "Which song did you love the most?")
    assert r.exit_code == 0, r.output
    assert "Moon River" in r.output and "by anna" in r.output
    tk = ExpressionTrack.from_bytes(bank_vault.get("track/reply"))
    assert tk.text.startswith("Moon River") and tk.meta["memory_author"] == "anna"
    r = cli("memory", "list", "rose")
    assert r.exit_code == 0 and r.output.count("\n") == len(BANK)


def test_converse_empty_bank_cli(cli, make_subject):
    make_subject("rose")
    r = cli("converse", "rose", "--text", "Hello?")
    assert r.exit_code == 2 and "memory bank is empty" in r.output


def test_word_error_rate():
    assert asr.word_error_rate("what was your favourite song", "what was your favourite song") == 0
    assert asr.word_error_rate("a b c d", "a x c") == pytest.approx(0.5)


def test_speech_recognition_of_a_spoken_question(bank_vault):
    from generation.speech import tts
    from generation.speech.conversation import reply

    speech = tts.speak("What was your favourite song?")
    heard = asr.transcribe(speech.audio, speech.sample_rate)
    assert asr.word_error_rate("what was your favorite song", heard) <= 0.4, heard
    track, chosen = reply(bank_vault, heard)
    assert chosen.text.startswith("Moon River")
