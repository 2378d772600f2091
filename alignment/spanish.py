"""Spanish words -> phones by the rules of Spanish spelling, which writes its sounds closely.

The phones are the phone model's classes (`acoustic._TOKENS`): ARPAbet names where an English
phone's tokens fit (P T K F M N L S CH W; Y for the glide of "bien"; IH and UH, whose tokens
i/ɪ and u/ʊ are what the model hears at Spanish /i/ and /u/), and `_ES` classes for the rest,
each standing for the model's tokens that Spanish speech brings out (the model hears
English-like sounds: Spanish /e/ mostly as its ɪ, /r/ as ɹ). The model does not tell a
trilled r from a tapped one, so neither does the lexicon."""

from __future__ import annotations

import itertools
import re
import unicodedata

_VOWELS = {"a": "A_ES", "e": "E_ES", "i": "IH", "o": "O_ES", "u": "UH"}
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
    "r": ["R_ES"],
    "s": ["S"],
    "t": ["T"],
    "w": ["W"],
    "z": ["TH_ES"],
    "h": [],
}
#: Two letters for one sound.
_DIGRAPHS = {"ch": "CH", "ll": "Y_ES", "rr": "R_ES"}
#: Names whose x keeps its old sound, /x/ (México, Oaxaca, Texas, Xalapa).
_X_AS_J = re.compile(r"m[eé]xic|oaxac|texa|xalap")
_FRONT = frozenset("eiéí")
_WORD = re.compile(r"[a-záéíóúüñ]+")
_EDGES = re.compile(r"^\W+|\W+$")


class SpanishLexicon:
    """A Spanish word's phones by rule; the parts of a hyphenated word are spelled in turn.
    A word with digits or letters Spanish does not write (a number, a foreign name) and an
    all-caps word (an acronym, said letter by letter like EE.UU. or as a word like ONU, or
    a shouted word) have none: they keep the signal refinement."""

    def phones(self, word: str) -> list[str] | None:
        bare = _EDGES.sub("", unicodedata.normalize("NFC", word))
        if len(bare) > 1 and bare.isupper():
            return None
        parts = bare.lower().split("-")
        if not all(_WORD.fullmatch(part) for part in parts):
            return None
        spelled = [spell(part) for part in parts]
        if not all(spelled):
            return None
        # Two equal phones in a row are one sound ("leer", "innato", and across a hyphen).
        return [phone for phone, _ in itertools.groupby(itertools.chain(*spelled))]


def spell(word: str) -> list[str]:
    """The phones of a lower-case Spanish word of the letters a-z, áéíóú, ü and ñ (empty
    where a letter is not Spanish)."""
    out: list[str] = []
    i = 0
    while i < len(word):
        phones, used = _sound(word, i)
        if phones is None:
            return []
        out += phones
        i += used
    return out


def _sound(word: str, i: int) -> tuple[list[str] | None, int]:
    """The phones of the sound written at `word[i]`, and how many letters write it."""
    letter, after = word[i], word[i + 1 : i + 2]
    if word[i : i + 2] in _DIGRAPHS:
        return [_DIGRAPHS[word[i : i + 2]]], 2
    if letter in "qg" and after == "u" and word[i + 2 : i + 3] in _FRONT:
        return ["K" if letter == "q" else "G_ES"], 2  # que, qui, gue, gui: the u is silent
    if letter in _LETTERS:
        return _LETTERS[letter], 1
    if letter in "cgqxy":
        return _consonant(word, i), 1
    return _vowel(word, i), 1


def _consonant(word: str, i: int) -> list[str]:
    """c, g, q, x and y, whose sound depends on the letters around them."""
    letter, after = word[i], word[i + 1 : i + 2]
    if letter == "c":  # /θ/ in Spain, /s/ in the Americas: the class holds both
        return ["TH_ES" if after in _FRONT else "K"]
    if letter == "g":
        return ["X_ES" if after in _FRONT else "G_ES"]
    if letter == "q":
        return ["K"]
    if letter == "x":
        if any(name.start() <= i < name.end() for name in _X_AS_J.finditer(word)):
            return ["X_ES"]
        return ["S"] if i == 0 else ["K", "S"]  # xilófono; examen
    # y: a consonant before a vowel ("ya", "desayuno"), else a vowel ("hoy", "y")
    return ["Y_ES" if _is_vowel(word, i + 1) else "IH"]


def _vowel(word: str, i: int) -> list[str] | None:
    """A vowel letter: i and u glide next to another vowel (not accented í and ú); ü is
    written only in güe and güi (pingüino). None for a letter Spanish does not write."""
    letter = word[i]
    if letter == "ü":
        return ["W"] if word[i - 1 : i] == "g" and word[i + 1 : i + 2] in _FRONT else None
    before = word[i - 1 : i].translate(_PLAIN)
    if letter in "iu" and (_is_vowel(word, i + 1) or before in ("a", "e", "o")):
        return ["Y" if letter == "i" else "W"]  # the glides of "bien", "cuatro", "aire"
    plain = letter.translate(_PLAIN)
    return [_VOWELS[plain]] if plain in _VOWELS else None


def _is_vowel(word: str, i: int) -> bool:
    return i < len(word) and word[i].translate(_PLAIN) in _VOWELS
