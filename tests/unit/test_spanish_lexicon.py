"""Spanish spelling -> the phone model's classes, by rule."""

from __future__ import annotations

import pytest

from alignment.acoustic import _CLASS_INDEX
from alignment.spanish import SpanishLexicon


@pytest.mark.parametrize(
    ("word", "phones"),
    [
        ("Los", "L O_ES S"),
        ("churros", "CH U_ES RR_ES O_ES S"),  # ch, rr: one sound each
        ("pero", "P E_ES R_ES O_ES"),  # a tapped r between vowels
        ("rey", "RR_ES E_ES I_ES"),  # trilled at the start; y at the end is a vowel
        ("Enrique", "E_ES N RR_ES I_ES K E_ES"),  # trilled after n; qu before e
        ("guerra", "G_ES E_ES RR_ES A_ES"),  # the u of gue is silent
        ("pingüino", "P I_ES N G_ES W I_ES N O_ES"),  # but not that of güi
        ("gente", "X_ES E_ES N T E_ES"),  # g before e sounds like j
        ("ciudad", "TH_ES Y U_ES D_ES A_ES D_ES"),  # c before i; i before a vowel glides
        ("cuatro", "K W A_ES T R_ES O_ES"),
        ("aire", "A_ES Y R_ES E_ES"),  # i after an open vowel glides
        ("hablar", "A_ES B_ES L A_ES R_ES"),  # h is silent
        ("llave", "Y_ES A_ES B_ES E_ES"),  # ll; b and v are one sound
        ("año", "A_ES NY_ES O_ES"),
        ("extranjero", "E_ES K S T R_ES A_ES N X_ES E_ES R_ES O_ES"),
        ("¿Qué", "K E_ES"),  # punctuation and accents
        ("días,", "D_ES I_ES A_ES S"),  # an accented í is a vowel of its own
        ("ya", "Y_ES A_ES"),
    ],
)
def test_words_are_spelled_in_phones(word: str, phones: str) -> None:
    spelled = SpanishLexicon().phones(word)
    assert spelled == phones.split()
    assert all(phone in _CLASS_INDEX for phone in spelled)  # each a class of the phone model


@pytest.mark.parametrize("word", ["50", "2026,", "EE.UU.", "ONU", "Müller", "x-y", "…"])
def test_numbers_acronyms_and_foreign_letters_have_no_phones(word: str) -> None:
    """They keep the signal refinement (the pass cannot say them)."""
    assert SpanishLexicon().phones(word) is None
