import pytest

from assets.errors import UsageError
from generation.speech import markup
from generation.speech.markup import Pause, Text


def test_plain_text_is_one_piece():
    assert markup.parse("Hello there. How are you?") == [Text("Hello there. How are you?", False)]


def test_pause_and_smile_spans():
    items = markup.parse("Hello. [pause 0.5] [smile] I am proud of you. [/smile] Bye.")
    assert items == [Text("Hello.", False), Pause(0.5), Text("I am proud of you.", True), Text("Bye.", False)]


def test_smile_ends_with_its_sentence():
    items = markup.parse("[smile]You made it! Now rest.")
    assert items == [Text("You made it!", True), Text("Now rest.", False)]


@pytest.mark.parametrize("line, words", [
    ("Hello [wave] there", "unknown markup '[wave]' at character 6"),
    ("[pause]", "bad pause"),
    ("[pause -1]", "bad pause"),
    ("[pause 60]", "bad pause"),
    ("[pause soon]", "bad pause"),
    ("Hello [there", "unbalanced square bracket at character 6"),
    ("Hello ] there [smile]", "unbalanced square bracket at character 6"),
])
def test_bad_markup_is_refused_with_position(line, words):
    with pytest.raises(UsageError, match=words.replace("[", r"\[").replace("]", r"\]")):
        markup.parse(line)
