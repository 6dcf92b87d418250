from __future__ import annotations

import pytest

from generation.session.checklist import Checklist
from generation.session.pairing import PairingBook, PairingError, normalize
from tests.session.conftest import CHECKLIST_OK


def test_checklist_blocks_until_every_item_is_answered():
    cl = Checklist(family_consent_therapy=True)
    assert len(cl.problems()) == 7
    for key, value in CHECKLIST_OK.items():
        assert not cl.complete
        cl.update({key: value})
    assert cl.complete and cl.problems() == []


@pytest.mark.parametrize("answer, problem", [
    ({"adult_client": False}, "not an adult"),
    ({"client_consent": False}, "has not consented"),
    ({"psychosis": True}, "psychosis rules out"),
    ({"photosensitive_epilepsy": True}, "photosensitive epilepsy rules out"),
])
def test_a_no_or_a_contraindication_keeps_start_blocked(answer, problem):
    cl = Checklist(family_consent_therapy=True)
    cl.update(CHECKLIST_OK)
    cl.update(answer)
    assert not cl.complete
    assert any(problem in p for p in cl.problems())


def test_family_consent_comes_from_the_vault_not_the_form():
    cl = Checklist(family_consent_therapy=False)
    cl.update(CHECKLIST_OK)
    assert cl.problems() == ["the family's consent lacks the 'therapy' scope"]
    with pytest.raises(ValueError):
        cl.update({"family_consent_therapy": True})


@pytest.mark.parametrize("bad", [{"adult_client": "yes"}, {"cybersickness": "extreme"}, {"ssq_before": -1},
                                 {"ssq_before": True}, {"shoe_size": 9}])
def test_ill_typed_answers_are_refused(bad):
    with pytest.raises(ValueError):
        Checklist().update(bad)


class Clock:
    t = 0.0

    def __call__(self):
        return self.t


def test_codes_are_single_use():
    book = PairingBook(Clock())
    code = book.issue()
    book.redeem(code.lower().replace("-", " "))  # typed loosely still works
    with pytest.raises(PairingError, match="already used"):
        book.redeem(code)


def test_codes_expire():
    clock = Clock()
    book = PairingBook(clock, ttl_s=60)
    code = book.issue()
    clock.t = 61
    with pytest.raises(PairingError, match="expired"):
        book.redeem(code)


@pytest.mark.parametrize("bad", ["", "ABCD", "ABCD-EFG1", "ABCD-EFGHI", "ABCD-EFG0", "x" * 100, None, "' OR 1=1"])
def test_malformed_codes_are_refused(bad):
    with pytest.raises(PairingError, match="malformed"):
        normalize(bad)


def test_codes_use_the_unambiguous_alphabet():
    book = PairingBook(Clock())
    codes = {book.issue() for _ in range(50)}
    assert len(codes) == 50
    assert all(normalize(c) == c for c in codes)
    assert not any(ch in c for c in codes for ch in "01OIL")
