"""Spanish words -> phones by the rules of Spanish spelling, which writes its sounds closely.

The phones are the phone model's classes (`acoustic._TOKENS`): ARPAbet names where an English
phone fits (P T K F M N L S CH W, and Y for the glide of "bien"), and `_ES` classes for the
rest, each standing for the model's tokens that Spanish speech brings out (the model hears
English-like sounds: Spanish /e/ mostly as its ɪ, /r/ as ɹ)."""

from __future__ import annotations

import re
import unicodedata

_VOWELS = {"a": "A_ES", "e": "E_ES", "i": "I_ES", "o": "O_ES", "u": "U_ES"}
_PLAIN = str.maketrans("áéíóúü", "aeiouu")
#: Letters said one way wherever they stand.
_LETTERS = {
    "b": ["B_ES"],
    "v": ["B_ES"],
    "d": ["D_ES"],
    "f": ["F"],
    "j": ["X_ES"],
    "k": ["K"],
    "l": ["L"],
    "m": ["M"],
    "n": ["N"],
    "ñ": ["NY_ES"],
    "p": ["P"],
    "s": ["S"],
    "t": ["T"],
    "w": ["W"],
    "x": ["K", "S"],
    "z": ["TH_ES"],
    "h": [],
}
#: Two letters for one sound.
_DIGRAPHS = {"ch": "CH", "ll": "Y_ES", "rr": "RR_ES"}
_FRONT = frozenset("eiéí")
_WORD = re.compile(r"[a-záéíóúüñ]+")
_EDGES = re.compile(r"^\W+|\W+$")


class SpanishLexicon:
    """A Spanish word's phones by rule. A word with digits or letters Spanish does not write
    (a number, a foreign name) and an acronym (said letter by letter) have none: they keep
    the signal refinement."""

    def phones(self, word: str) -> list[str] | None:
        bare = _EDGES.sub("", unicodedata.normalize("NFC", word))
        if len(bare) > 1 and bare.isupper():
            return None
        bare = bare.lower()
        if not _WORD.fullmatch(bare):
            return None
        return spell(bare) or None


def spell(word: str) -> list[str]:
    """The phones of a lower-case Spanish word of the letters a-z, áéíóú, ü and ñ."""
    plain = word.translate(_PLAIN)
    out: list[str] = []
    i = 0
    while i < len(word):
        letter, pair = word[i], word[i : i + 2]
        after = word[i + 1 : i + 2]
        if pair in _DIGRAPHS:
            out.append(_DIGRAPHS[pair])
            i += 2
            continue
        if letter in "qg" and after == "u" and word[i + 2 : i + 3] in _FRONT:
            out.append("K" if letter == "q" else "G_ES")  # que, qui, gue, gui: the u is silent
            i += 2
            continue
        if letter == "c":
            # /θ/ in Spain, /s/ in the Americas: the class holds both.
            out.append("TH_ES" if after in _FRONT else "K")
        elif letter == "q":
            out.append("K")
        elif letter == "g":
            out.append("X_ES" if after in _FRONT else "G_ES")
        elif letter == "r":
            trilled = i == 0 or word[i - 1] in "lns"
            out.append("RR_ES" if trilled else "R_ES")
        elif letter == "y":
            out.append("Y_ES" if _is_vowel(plain, i + 1) else "I_ES")  # "ya", but "hoy", "y"
        elif letter in _LETTERS:
            out.extend(_LETTERS[letter])
        elif letter == "ü":
            if not (word[i - 1 : i] == "g" and after in _FRONT):
                return []  # Spanish writes ü only in güe and güi (pingüino)
            out.append("W")
        elif letter in "iu" and (_is_vowel(plain, i + 1) or _after_open_vowel(plain, i)):
            out.append("Y" if letter == "i" else "W")  # the glides of "bien", "cuatro", "aire"
        elif plain[i] in _VOWELS:
            out.append(_VOWELS[plain[i]])
        else:
            return []
        i += 1
    return out


def _is_vowel(plain: str, i: int) -> bool:
    return i < len(plain) and plain[i] in _VOWELS


def _after_open_vowel(plain: str, i: int) -> bool:
    """Whether a written i or u follows a, e or o ("aire", "causa"): a glide, not a syllable."""
    return i > 0 and plain[i - 1] in "aeo"
