"""One audio window: log-mel features -> Whisper encoder -> CTranslate2 `align` -> word times."""

from __future__ import annotations

import math
from dataclasses import dataclass

import ctranslate2
import numpy as np
import numpy.typing as npt
from faster_whisper.tokenizer import Tokenizer

from alignment.audio import SAMPLE_RATE, Samples
from alignment.weights import LoadedModel

WINDOW_SAMPLES = 30 * SAMPLE_RATE
MEL_FRAMES_PER_S = 100
HOP_SAMPLES = SAMPLE_RATE // MEL_FRAMES_PER_S
TOKENS_PER_S = 50  # encoder positions per second
MAX_TEXT_TOKENS = 440  # the decoder sees at most 448 positions, the prompt included
MEDIAN_FILTER_WIDTH = 7


@dataclass(frozen=True)
class EncodedWindow:
    """Encoder output for audio [start_s, start_s + length_s)."""

    start_s: float
    length_s: float
    encoder_output: npt.NDArray[np.float32]

    @property
    def end_s(self) -> float:
        return self.start_s + self.length_s


@dataclass(frozen=True)
class TimedToken:
    """A word of text (given or heard) placed in a window, in absolute seconds."""

    text: str
    start: float
    end: float
    probability: float


class WindowAligner:
    """Runs the model on windows; holds no state between windows."""

    def __init__(
        self, model: LoadedModel, tokenizer: Tokenizer, tail_padding_s: float | None = None
    ) -> None:
        """`tail_padding_s`: a window with less than 30 s of audio is encoded as its audio
        and this much silence, not padded to 30 s (the encoder's time grows with its
        frames); None: every window is 30 s."""
        self._model = model
        self._tokenizer = tokenizer
        self._tail_padding_s = tail_padding_s

    def with_tail_padding(self, tail_padding_s: float | None) -> WindowAligner:
        """The same aligner, encoding short windows as their audio and `tail_padding_s`."""
        return WindowAligner(self._model, self._tokenizer, tail_padding_s)

    def encode(self, samples: Samples, spans: list[tuple[float, float]]) -> list[EncodedWindow]:
        """Encode windows [(start_s, end_s), …] of `samples` in one batch, as long as the
        longest of them needs (a short window is asked for alone: `stages.OneWindowModel`)."""
        frames = max(window_frames(end - start, self._tail_padding_s) for start, end in spans)
        return self._encode(samples, spans, frames)

    def _encode(
        self, samples: Samples, spans: list[tuple[float, float]], frames: int
    ) -> list[EncodedWindow]:
        features = np.stack(
            [self._features(samples, start, end)[:, :frames] for start, end in spans]
        )
        output = self._model.whisper.model.encode(
            ctranslate2.StorageView.from_array(np.ascontiguousarray(features)),
            to_cpu=self._model.device == "cuda",
        )
        encoded = encoder_array(output)
        return [
            EncodedWindow(start, end - start, encoded[i : i + 1])
            for i, (start, end) in enumerate(spans)
        ]

    def _features(self, samples: Samples, start_s: float, end_s: float) -> npt.NDArray[np.float32]:
        first = round(start_s * SAMPLE_RATE)
        last = min(len(samples), round(end_s * SAMPLE_RATE), first + WINDOW_SAMPLES)
        chunk = np.zeros(WINDOW_SAMPLES, dtype=np.float32)
        chunk[: last - first] = samples[first:last]
        mel = self._model.whisper.feature_extractor(chunk, padding=0)
        return np.ascontiguousarray(mel[:, : WINDOW_SAMPLES // HOP_SAMPLES], dtype=np.float32)

    def token_ids(self, text: str) -> list[int]:
        return list(self._tokenizer.encode(" " + text.strip()))

    def align(self, window: EncodedWindow, words: list[list[int]]) -> list[TimedToken]:
        """Force-align word token lists to the window; one TimedToken per word, in order."""
        flat = [token for tokens in words for token in tokens]
        if not flat:
            return []
        num_frames = max(2, round(window.length_s * MEL_FRAMES_PER_S))
        result = self._model.whisper.model.align(
            ctranslate2.StorageView.from_array(window.encoder_output),
            self._tokenizer.sot_sequence,
            [flat],
            num_frames,
            median_filter_width=MEDIAN_FILTER_WIDTH,
        )[0]
        return _word_times(window, words, result.alignments, result.text_token_probs)

    def transcribe(self, window: EncodedWindow) -> list[TimedToken]:
        """A cheap greedy transcription of the window, with word times, to find where text is."""
        # Timestamp mode: without it, Whisper often stops after a word or two on windows
        # that start mid-sentence. The timestamp tokens are dropped afterwards.
        prompt = list(self._tokenizer.sot_sequence)
        result = self._model.whisper.model.generate(
            ctranslate2.StorageView.from_array(window.encoder_output),
            [prompt],
            beam_size=1,
            max_length=160,
            no_repeat_ngram_size=4,
            suppress_blank=True,
        )[0]
        tokens = [t for t in result.sequences_ids[0] if t < self._tokenizer.eot]
        if not tokens:
            return []
        texts, word_tokens = self._tokenizer.split_to_word_tokens(tokens)
        timed = self.align(window, [list(w) for w in word_tokens])
        return [
            TimedToken(text.strip(), t.start, t.end, t.probability)
            for text, t in zip(texts, timed, strict=True)
            if text.strip()
        ]


def window_frames(audio_s: float, tail_padding_s: float | None) -> int:
    """Mel frames a window holding `audio_s` of audio is encoded as: 30 s, or its audio and
    `tail_padding_s` of silence where that is shorter (an even count: the encoder halves it)."""
    full = WINDOW_SAMPLES // HOP_SAMPLES
    if tail_padding_s is None:
        return full
    return min(full, 2 * math.ceil((audio_s + tail_padding_s) * MEL_FRAMES_PER_S / 2))


def encoder_array(output: ctranslate2.StorageView) -> npt.NDArray[np.float32]:
    """The encoder output as a numpy array. numpy has no bfloat16, so the bfloat16 and
    int8_bfloat16 compute types give float32 here (exact: every bfloat16 is a float32);
    CTranslate2 turns it back into the model's type when it is passed in again."""
    if output.dtype == ctranslate2.DataType.bfloat16:
        output = output.to(ctranslate2.DataType.float32)
    return np.asarray(output)


def _word_times(
    window: EncodedWindow,
    words: list[list[int]],
    alignments: list[tuple[int, int]],
    token_probs: list[float],
) -> list[TimedToken]:
    pairs = np.asarray(alignments, dtype=np.int64).reshape(-1, 2)
    text_index, time_index = pairs[:, 0], pairs[:, 1]
    # The first encoder position at which each text token becomes active on the DTW path.
    first_time = np.full(sum(len(w) for w in words) + 1, -1, dtype=np.int64)
    for index, time in zip(text_index.tolist(), time_index.tolist(), strict=True):
        if 0 <= index < len(first_time) and first_time[index] < 0:
            first_time[index] = time
    if first_time[-1] < 0:  # the end-of-text token was not reached: the text runs to the end
        first_time[-1] = round(window.length_s * TOKENS_PER_S)
    first_time = np.maximum.accumulate(np.where(first_time < 0, 0, first_time))
    probs = np.asarray(token_probs, dtype=np.float64)
    out: list[TimedToken] = []
    position = 0
    for tokens in words:
        nxt = position + len(tokens)
        start = window.start_s + first_time[position] / TOKENS_PER_S
        end = window.start_s + first_time[min(nxt, len(first_time) - 1)] / TOKENS_PER_S
        prob = float(np.exp(np.mean(np.log(np.maximum(probs[position:nxt], 1e-6)))))
        out.append(TimedToken("", float(start), float(max(end, start)), prob))
        position = nxt
    return out
