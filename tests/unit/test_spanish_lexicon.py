"""Spanish spelling -> the phone model's classes, by rule."""

from __future__ import annotations

import pytest

from alignment.acoustic import _CLASS_INDEX, phone_classes
from alignment.engine import _LEXICONS
from alignment.spanish import SpanishLexicon


@pytest.mark.parametrize(
    ("word", "phones"),
    [
        ("Los", "L O_ES S"),
        ("churros", "CH UH R_ES O_ES S"),  # ch, rr: one sound each
        ("pero", "P E_ES R_ES O_ES"),
        ("rey", "R_ES E_ES IH"),  # y at the end is a vowel
        ("Enrique", "E_ES N R_ES IH K E_ES"),  # qu before e
        ("guerra", "G_ES E_ES R_ES A_ES"),  # the u of gue is silent
        ("pingüino", "P IH N G_ES W IH N O_ES"),  # but not that of güi
        ("gente", "X_ES E_ES N T E_ES"),  # g before e sounds like j
        ("ciudad", "TH_ES Y UH D_ES A_ES D_ES"),  # c before i; i before a vowel glides
        ("cuatro", "K W A_ES T R_ES O_ES"),
        ("aire", "A_ES Y R_ES E_ES"),  # i after an open vowel glides
        ("huevo", "W E_ES B_ES O_ES"),  # h is silent
        ("llave", "Y_ES A_ES B_ES E_ES"),  # ll; b and v are one sound
        ("año", "A_ES NY_ES O_ES"),
        ("examen", "E_ES K S A_ES M E_ES N"),  # x between vowels
        ("xilófono", "S IH L O_ES F O_ES N O_ES"),  # x at the start
        ("México", "M E_ES X_ES IH K O_ES"),  # the names that keep the old x
        ("leer", "L E_ES R_ES"),  # two equal sounds in a row are one
        ("franco-alemán", "F R_ES A_ES N K O_ES A_ES L E_ES M A_ES N"),
        ("¿Qué", "K E_ES"),  # punctuation and accents
        ("días,", "D_ES IH A_ES S"),  # an accented í is a vowel of its own
        ("ya", "Y_ES A_ES"),
    ],
)
def test_words_are_spelled_in_phones(word: str, phones: str) -> None:
    spelled = SpanishLexicon().phones(word)
    assert spelled == phones.split()
    assert all(phone in _CLASS_INDEX for phone in spelled)  # each a class of the phone model


@pytest.mark.parametrize("word", ["50", "2026,", "EE.UU.", "ONU", "Müller", "x-2", "…", ""])
def test_numbers_acronyms_and_foreign_letters_have_no_phones(word: str) -> None:
    """They keep the signal refinement (the pass cannot say them)."""
    assert SpanishLexicon().phones(word) is None


def test_every_language_of_the_pass_has_a_lexicon_in_the_models_classes() -> None:
    """Each lexicon spells "no" (a word of both languages) in classes the phone model has."""
    for language, lexicon in _LEXICONS.items():
        phones = lexicon().phones("no")
        assert phones and phone_classes(phones), language
