"""Word boundaries from pocketsphinx's GMM-HMM forced alignment: a second, finer opinion."""

from __future__ import annotations

import queue
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import numpy as np

from alignment.acoustic import Span, Spelled
from alignment.audio import Samples
from alignment.errors import AcousticModelError

#: pocketsphinx's frames: 100 per second.
FRAME_S = 0.01
#: How its entries that are no word of the text begin: silence and sentence edges (`<sil>`,
#: `<s>`), noise and fillers (`[NOISE]`, `[SPEECH]`), which it may put between words.
_NOT_WORDS = ("<", "[")
#: Search beams (probability ratios to the best path kept per frame).
BEAM = 1e-80
WORD_BEAM = 1e-60


class SphinxAligner:
    """pocketsphinx's bundled en-us acoustic model and dictionary; words it lacks are added
    with the lexicon's phones. `align` may be called from several threads at once: each call
    takes one of `decoders` decoders (a decoder holds one utterance at a time)."""

    def __init__(self, decoders: int = 1) -> None:
        self._free: queue.SimpleQueue[tuple[Any, str]] = queue.SimpleQueue()
        for _ in range(max(1, decoders)):
            decoder = _new_decoder()
            self._free.put((decoder, decoder.get_cmn()))

    @contextmanager
    def _decoder(self) -> Iterator[Any]:
        decoder, initial_mean = self._free.get()
        # Each utterance starts from the same cepstral mean: the decoder would otherwise
        # start from the last one's, and a chunk's times would depend on what ran before.
        decoder.set_cmn(initial_mean)
        try:
            yield decoder
        finally:
            self._free.put((decoder, initial_mean))

    def align(
        self, samples: Samples, offset_s: float, words: Sequence[Spelled]
    ) -> list[Span] | None:
        """Each word's (start, end) in seconds (`samples` start at `offset_s`), the words given
        as (written word, ARPAbet phones); None where the decoder finds no path through them."""
        if not words or not all(phones for _, phones in words):
            return None
        raw = (np.clip(samples, -1.0, 1.0) * 32767).astype(np.int16).tobytes()
        with self._decoder() as decoder:
            names = [_entry(decoder, word, phones) for word, phones in words]
            try:
                decoder.set_align_text(" ".join(names))
                decoder.start_utt()
                decoder.process_raw(raw, full_utt=True)
                decoder.end_utt()
            except RuntimeError:
                return None
            if decoder.hyp() is None:
                return None
            found = [
                (offset_s + seg.start_frame * FRAME_S, offset_s + (seg.end_frame + 1) * FRAME_S)
                for seg in decoder.seg()
                if not seg.word.startswith(_NOT_WORDS)
            ]
        return found if len(found) == len(words) else None


def _new_decoder() -> Any:
    try:
        from pocketsphinx import Decoder
    except ImportError as error:
        raise AcousticModelError(
            "pocketsphinx is missing: install podalign's dependencies."
        ) from error
    # Beams wider than the defaults (made for open recognition): with them the forced path
    # often fell out of the beam before the last word and the whole chunk was lost.
    return Decoder(
        samprate=16000,
        lm=None,
        bestpath=False,
        beam=BEAM,
        pbeam=BEAM,
        wbeam=WORD_BEAM,
        loglevel="FATAL",
    )


def _entry(decoder: Any, word: str, phones: list[str]) -> str:
    """The word's dictionary entry (with its other pronunciations), or one spelling the
    lexicon's phones (stress marks dropped), added if new."""
    plain_word = word.lower().strip('.,;:!?"()[]“”‘’«»').replace("’", "'")
    if plain_word.replace("'", "").isalpha() and decoder.lookup_word(plain_word) is not None:
        return plain_word
    plain = [phone.rstrip("012") for phone in phones]
    name = "_".join(plain).lower()
    if decoder.lookup_word(name) is None:
        decoder.add_word(name, " ".join(plain), True)
    return name
