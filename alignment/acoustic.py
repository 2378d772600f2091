"""Phone-level word boundaries: a small CTC acoustic model force-aligned in short chunks."""

from __future__ import annotations

import hashlib
import importlib.util
import itertools
import json
import logging
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import numpy as np

from alignment.audio import SAMPLE_RATE, Samples
from alignment.ctc import Emissions, LabelSpan, force_align
from alignment.errors import AcousticModelError
from alignment.lexicon import Lexicon
from alignment.types import Refinement

logger = logging.getLogger(__name__)

Span = tuple[float, float]

#: The phoneme CTC model shipped in the `hama` package (1.3.13), pinned by content.
MODEL_PACKAGE = "hama"
MODEL_FILE = "assets/asr_waveform_fp16.onnx"
MODEL_SHA256 = "a884b5ac55f8bbc00673e8cf6d2dd601aa76e5031dd85cf3de2f25b5987cd59a"
VOCAB_FILE = "assets/g2p_vocab.json"
#: Languages whose words the lexicon can turn into phones.
LANGUAGES = frozenset({"en"})

#: ARPAbet phone -> the model's IPA tokens that may stand for it (the best one scores).
_IPA = {
    "AA": "ɑ a ɒ",
    "AE": "æ a",
    "AH": "ʌ ə",
    "AH0": "ə ʌ ɪ",
    "AO": "ɔ ɑ",
    "AW": "aʊ",
    "AY": "aɪ",
    "B": "b",
    "CH": "t͡ʃ",
    "D": "d ɾ",
    "DH": "ð",
    "EH": "ɛ e",
    "ER": "ɝ ɚ",
    "ER0": "ɚ ɝ ə",
    "EY": "eɪ e",
    "F": "f",
    "G": "g ɡ",
    "HH": "h",
    "IH": "ɪ i",
    "IH0": "ɪ ə i",
    "IY": "i",
    "JH": "d͡ʒ",
    "K": "k",
    "L": "l ɫ",
    "M": "m",
    "N": "n",
    "NG": "ŋ",
    "OW": "oʊ o",
    "OY": "ɔɪ",
    "P": "p",
    "R": "ɹ r",
    "S": "s",
    "SH": "ʃ",
    "T": "t ɾ",
    "TH": "θ",
    "UH": "ʊ u",
    "UW": "u",
    "V": "v",
    "W": "w",
    "Y": "j",
    "Z": "z",
    "ZH": "ʒ",
}


@dataclass(frozen=True)
class AcousticOptions:
    """Tunables of the acoustic pass (measured on the dev cases, see bench/RESULTS.md)."""

    #: Longest stretch of audio aligned at once; longer chunks drift (20 s was much worse).
    max_chunk_s: float = 12.0
    #: Words further apart than this go to separate chunks (a pause the model need not cross).
    split_gap_s: float = 1.0
    #: Audio taken before the first and after the last word of a chunk, for their errors.
    margin_s: float = 0.4
    #: Added to the first phone's first frame: the model's spikes come late by about this much.
    start_offset_s: float = -0.06
    #: Added to the end of the last phone's last frame: CTC spikes stop before the sound does.
    end_offset_s: float = 0.03
    #: A word whose phones score below this mean log-probability keeps its signal time.
    min_word_log_prob: float = -6.0
    #: A chunk whose phones score below this mean log-probability is not used at all.
    min_chunk_log_prob: float = -3.5
    #: A word moved further than this from its signal time keeps the signal time.
    max_shift_s: float = 0.5
    #: An acoustic edge this close to the edge of a pause in the signal moves onto it (the
    #: signal's 5 ms levels are sharper than the model's 20 ms frames there); 0 turns it off.
    pause_snap_s: float = 0.03
    #: Shortest word, seconds.
    min_word_s: float = 0.03


class PhoneScorer(Protocol):
    """Frame-wise log-probabilities of phone classes for a stretch of audio."""

    frame_s: float

    def classes(self, phones: Sequence[str]) -> list[int] | None: ...

    def emissions(self, samples: Samples) -> Emissions: ...


class PhoneModel:
    """The pinned ONNX phoneme model: 16 kHz waveform in, log-probabilities per 20 ms out."""

    frame_s = 0.02

    def __init__(self, threads: int = 1) -> None:
        import onnxruntime

        folder = _package_folder(MODEL_PACKAGE)
        data = (folder / MODEL_FILE).read_bytes()
        if hashlib.sha256(data).hexdigest() != MODEL_SHA256:
            raise AcousticModelError(
                "The acoustic model is not the pinned one: install hama==1.3.13."
            )
        session_options = onnxruntime.SessionOptions()
        session_options.intra_op_num_threads = threads
        session_options.inter_op_num_threads = 1
        self._session = onnxruntime.InferenceSession(
            data, session_options, providers=["CPUExecutionProvider"]
        )
        tokens = json.loads((folder / VOCAB_FILE).read_text("utf-8"))["decoder"]
        self._columns = _class_columns([*tokens, "<wb>", "<blank>"])

    def classes(self, phones: Sequence[str]) -> list[int] | None:
        """Class index (1-based; 0 is blank) per phone, None if a phone is unknown."""
        out = [_CLASS_INDEX.get(phone, _CLASS_INDEX.get(phone.rstrip("012"))) for phone in phones]
        return None if any(c is None for c in out) else [c for c in out if c is not None]

    def emissions(self, samples: Samples) -> Emissions:
        wave = samples.astype(np.float32, copy=False)[None, :]
        log_probs, lengths = self._session.run(
            ["log_probs", "out_lengths"],
            {"waveform": wave, "waveform_lengths": np.array([wave.shape[1]], dtype=np.int64)},
        )
        frames = np.asarray(log_probs[0][: int(np.asarray(lengths).reshape(-1)[0])], np.float32)
        return np.stack([frames[:, cols].max(axis=1) for cols in self._columns], axis=1)


_CLASSES = ["<blank>", *_IPA]
_CLASS_INDEX = {name: i for i, name in enumerate(_CLASSES)}


def _class_columns(tokens: list[str]) -> list[list[int]]:
    """For each class, the model's output columns that count for it (blank: blank and the
    word-boundary token, which the pass treats alike)."""
    index = {token: i for i, token in enumerate(tokens)}
    columns = [[index["<blank>"], index["<wb>"]]]
    for name in _CLASSES[1:]:
        columns.append([index[t] for t in _IPA[name].split() if t in index])
    return columns


def _package_folder(name: str) -> Path:
    spec = importlib.util.find_spec(name)
    if spec is None or not spec.submodule_search_locations:
        raise AcousticModelError(
            f"The acoustic model's package {name!r} is missing: install podalign's dependencies."
        )
    return Path(next(iter(spec.submodule_search_locations)))


@dataclass(frozen=True)
class Chunk:
    """Consecutive words aligned together, and the stretch of audio they are looked for in."""

    words: list[int]
    start_s: float
    end_s: float


def plan_chunks(
    spans: Sequence[Span | None], eligible: Sequence[bool], opts: AcousticOptions
) -> list[Chunk]:
    """Runs of eligible placed words, cut at ineligible or unplaced words and at long gaps,
    then split at their widest gap until each is at most `max_chunk_s` long."""
    runs: list[list[int]] = []
    current: list[int] = []
    for i, span in enumerate(spans):
        gap = span is not None and current and span[0] - _end(spans, current[-1]) > opts.split_gap_s
        if span is None or not eligible[i] or gap:
            if current:
                runs.append(current)
            current = [i] if span is not None and eligible[i] else []
        else:
            current.append(i)
    if current:
        runs.append(current)
    pieces = [piece for run in runs for piece in _split(run, spans, opts.max_chunk_s)]
    return [_extent(piece, spans, opts.margin_s) for piece in pieces]


def _end(spans: Sequence[Span | None], i: int) -> float:
    span = spans[i]
    assert span is not None
    return span[1]


def _start(spans: Sequence[Span | None], i: int) -> float:
    span = spans[i]
    assert span is not None
    return span[0]


def _split(run: list[int], spans: Sequence[Span | None], max_s: float) -> list[list[int]]:
    if len(run) < 2 or _end(spans, run[-1]) - _start(spans, run[0]) + 0.8 <= max_s:
        return [run]
    gaps = [_start(spans, b) - _end(spans, a) for a, b in itertools.pairwise(run)]
    # Prefer a wide gap near the middle, so that both halves shrink.
    middle = (len(run) - 1) / 2
    cut = 1 + max(range(len(gaps)), key=lambda k: (gaps[k], -abs(k - middle)))
    return _split(run[:cut], spans, max_s) + _split(run[cut:], spans, max_s)


def _extent(words: list[int], spans: Sequence[Span | None], margin_s: float) -> Chunk:
    """The chunk's audio: the words plus a margin, never past the middle of a neighbour."""
    first, last = words[0], words[-1]
    start = _start(spans, first) - margin_s
    end = _end(spans, last) + margin_s
    before = next((spans[i] for i in range(first - 1, -1, -1) if spans[i] is not None), None)
    after = next((spans[i] for i in range(last + 1, len(spans)) if spans[i] is not None), None)
    if before is not None:
        start = max(start, (before[0] + before[1]) / 2, before[1] - 0.1)
    if after is not None:
        end = min(end, (after[0] + after[1]) / 2, after[0] + 0.1)
    return Chunk(words, max(0.0, start), end)


class AcousticRefiner:
    """Moves placed words onto the acoustic model's phone boundaries, chunk by chunk."""

    def __init__(
        self,
        scorer: PhoneScorer,
        lexicon: Lexicon,
        options: AcousticOptions | None = None,
        workers: int = 1,
    ) -> None:
        self.scorer, self.lexicon = scorer, lexicon
        self.options = options or AcousticOptions()
        #: Chunks aligned at once (in threads: the model releases the GIL); same result.
        self.workers = max(1, workers)

    def refine(
        self,
        samples: Samples,
        words: Sequence[str],
        spans: Sequence[Span | None],
        pauses: Sequence[Span] = (),
    ) -> list[tuple[Span | None, Refinement]]:
        """Per word: its (start, end) and which pass set it; `spans` are the signal times,
        `pauses` the quiet stretches found in the signal."""
        labels = [self._labels(word) for word in words]
        out: list[tuple[Span | None, Refinement]] = [(span, "signal") for span in spans]
        chunks = plan_chunks(spans, [bool(lab) for lab in labels], self.options)
        with ThreadPoolExecutor(self.workers, thread_name_prefix="acoustic") as pool:
            moved = pool.map(lambda chunk: self._align_chunk(samples, chunk, labels, spans), chunks)
            for found in moved:
                for index, span in found.items():
                    out[index] = (
                        snap_to_pauses(span, pauses, self.options.pause_snap_s),
                        "acoustic",
                    )
        return _in_order(out, self.options.min_word_s)

    def _labels(self, word: str) -> list[int]:
        phones = self.lexicon.phones(word)
        return (self.scorer.classes(phones) or []) if phones else []

    def _align_chunk(
        self,
        samples: Samples,
        chunk: Chunk,
        labels: Sequence[list[int]],
        spans: Sequence[Span | None],
    ) -> dict[int, Span]:
        opts = self.options
        a, b = round(chunk.start_s * SAMPLE_RATE), round(chunk.end_s * SAMPLE_RATE)
        emissions = self.scorer.emissions(samples[a:b])
        sequence = [label for i in chunk.words for label in labels[i]]
        path = force_align(emissions, sequence, blank=0)
        if path is None or np.mean([s.score for s in path]) < opts.min_chunk_log_prob:
            logger.debug("acoustic chunk %.2f-%.2f s implausible; signal times kept", *_ext(chunk))
            return {}
        moved: dict[int, Span] = {}
        position = 0
        for i in chunk.words:
            phones = path[position : position + len(labels[i])]
            position += len(labels[i])
            span = self._word_span(chunk.start_s, phones)
            old = spans[i]
            assert old is not None
            if span is not None and abs(span[0] - old[0]) <= opts.max_shift_s:
                moved[i] = span
        return moved

    def _word_span(self, offset_s: float, phones: list[LabelSpan]) -> Span | None:
        opts, frame = self.options, self.scorer.frame_s
        if np.mean([p.score for p in phones]) < opts.min_word_log_prob:
            return None
        start = offset_s + phones[0].first * frame + opts.start_offset_s
        end = offset_s + (phones[-1].last + 1) * frame + opts.end_offset_s
        return start, end


def snap_to_pauses(span: Span, pauses: Sequence[Span], radius_s: float) -> Span:
    """A start just after a pause moves to the pause's end, an end just before one to its
    start, where the pause edge is within `radius_s`."""
    start, end = span
    for pause_start, pause_end in pauses:
        if abs(pause_end - start) <= radius_s and pause_end < end:
            start = pause_end
        if abs(pause_start - end) <= radius_s and pause_start > start:
            end = pause_start
    return start, end


def _ext(chunk: Chunk) -> tuple[float, float]:
    return chunk.start_s, chunk.end_s


def _in_order(
    words: list[tuple[Span | None, Refinement]], min_word_s: float
) -> list[tuple[Span | None, Refinement]]:
    """No word starts before the one before it ends; every word keeps a minimal length."""
    out: list[tuple[Span | None, Refinement]] = []
    previous_end = 0.0
    for index, (span, how) in enumerate(words):
        if span is None:
            out.append((None, how))
            continue
        start = max(span[0], previous_end, 0.0)
        following = next((s for s, _ in words[index + 1 :] if s is not None), None)
        end = span[1] if following is None else min(span[1], max(following[0], start))
        end = max(end, start + min_word_s)
        out.append(((round(start, 3), round(end, 3)), how))
        previous_end = end
    return out
