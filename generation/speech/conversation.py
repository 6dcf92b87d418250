"""One conversational turn: a question (spoken or typed) -> an authored memory -> a speaking track.

The reply is always the text of a memory someone wrote; nothing is generated.
"""

from __future__ import annotations

from . import memory as mem
from . import track as tr


def reply(vault, question: str, name: str = "reply", voice=None, seed: int = 0, progress=None):
    """Choose the memory for `question`, speak it, store track/<name> (replaced each turn); return (track, memory)."""
    from .tts import speak

    bank = mem.load_bank(vault)
    chosen, score, why = mem.choose(bank, question)
    speech = speak(chosen.text, voice, progress=progress)
    result = tr.speech_track(speech, seed=seed, text=chosen.text)
    result.meta.update({"question": question, "memory_id": chosen.id, "memory_author": chosen.author,
                        "memory_date": chosen.date, "score": round(score, 3), "chosen": why,
                        "retrieval": mem.retrieval_method()})
    tr.store(vault, result, name)
    vault.log("converse_turn", track=tr.track_key(name), memory=chosen.id, score=round(score, 3))
    return result, chosen
