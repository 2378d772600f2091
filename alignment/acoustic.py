"""Phone-level word boundaries: a small CTC acoustic model force-aligned in short chunks."""

from __future__ import annotations

import hashlib
import importlib.util
import itertools
import json
import logging
import math
from bisect import bisect_left, bisect_right
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Protocol

import numpy as np
import numpy.typing as npt

from alignment.audio import LEVEL_FRAME_S, SAMPLE_RATE, Levels, Samples
from alignment.ctc import Emissions, LabelSpan, force_align
from alignment.errors import AcousticModelError
from alignment.refine import Reach, nearest_dip, smooth_levels
from alignment.text import ends_sentence
from alignment.types import Refinement

logger = logging.getLogger(__name__)

Span = tuple[float, float]
#: A written word and its ARPAbet phones (empty: the lexicon cannot spell it).
Spelled = tuple[str, list[str]]

#: The phoneme CTC model shipped in the `hama` package (1.3.13), pinned by content.
MODEL_PACKAGE = "hama"
MODEL_FILE = "assets/asr_waveform_fp16.onnx"
MODEL_SHA256 = "a884b5ac55f8bbc00673e8cf6d2dd601aa76e5031dd85cf3de2f25b5987cd59a"
VOCAB_FILE = "assets/g2p_vocab.json"
#: The same package's grapheme-to-phoneme model (IPA out), for words the dictionary lacks.
G2P_FILES = {
    "assets/encoder.onnx": "b512084fdd78dcb532693828fe86c1675a950289c2805702b08b4c8a03dec3bb",
    "assets/decoder_step.onnx": "024790900f2d865dd83df92f9772dd95cfc590b70698c49de3f73ddbdd44311f",
}
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
    #: ... but a word whose first spike comes close behind the last spike of the word before
    #: starts no earlier than `packed_share` of the way from that spike to its own, plus
    #: `packed_offset_s`: there the lag is shorter. Measured over the dev cases' words, the
    #: reference start lies 27, 38 and 50 ms before the first spike where the two spikes are
    #: 1, 2 and 3 frames apart, and 55-67 ms before it where they are further apart; the rule
    #: acts below about 60 ms apart.
    packed_share: float = 0.425
    packed_offset_s: float = -0.025
    #: Added to the end of the last phone's last frame: CTC spikes stop before the sound does.
    end_offset_s: float = 0.03
    #: A word whose phones score below this mean log-probability keeps its signal time.
    min_word_log_prob: float = -6.0
    #: A chunk whose phones score below this mean log-probability is not used at all.
    min_chunk_log_prob: float = -3.5
    #: A word whose path start lies further than this outside its signal span keeps the
    #: signal time (a start inside the span is no move: Whisper's span often takes in the
    #: pause before the word).
    max_shift_s: float = 0.5
    #: A word Whisper gave less time than this was crammed in (crosstalk, text it could not
    #: place): its signal time says little, so the path may move it up to
    #: `max_crammed_shift_s`.
    crammed_word_s: float = 0.06
    max_crammed_shift_s: float = 2.0
    #: A word whose path scores at least this, between two words whose path times the pass
    #: takes (within the reach above of their signal times), takes the path's time however
    #: far it moves ("cup." after "$2.50, a" was placed by Whisper 0.7 s late, after the
    #: pause; the path had it 10 ms off).
    sandwiched_min_log_prob: float = -3.0
    #: ... unless the path gives it more than this per phone: a path that crammed the word
    #: before stretches this one over its sound ("retired" after a squeezed "toolkit. A").
    sandwiched_max_phone_s: float = 0.15
    #: ... or it has fewer phones than this: a short word is little evidence for the path (an
    #: "A" the path had put inside "patience." before it, 0.53 s early, on the three-hour
    #: file; the words it moved rightly had 3 to 19 phones).
    sandwiched_min_phones: int = 3
    #: An unsure word whose signal start lies this far outside the starts of the sure words
    #: around it takes the path's time (it is out of order with them); closer, it keeps its
    #: signal time.
    order_slack_s: float = 0.1
    #: At a turn (a sentence right after another), a first word scoring below this is looked
    #: for again alone (with the `turn_words` words from it), from up to `turn_search_s`
    #: earlier but not before the word before starts: another voice may have started under
    #: the last word (crosstalk). It moves where it scores `turn_gain_log_prob` better.
    turn_unsure_log_prob: float = -3.0
    turn_words: int = 8
    turn_search_s: float = 0.8
    turn_gain_log_prob: float = 1.0
    #: An acoustic edge this close to the edge of a pause in the signal moves onto it (the
    #: signal's 5 ms levels are sharper than the model's 20 ms frames there); 0 turns it off.
    pause_snap_s: float = 0.03
    #: A start further inside a pause than `pause_snap_s`, up to this far before its end,
    #: moves on to the end where the pause is deep: its level at least
    #: `pause_start_min_depth_db` below the 0.1 s of sound after it. Measured: 24 starts
    #: 30-55 ms early moved on the dev cases ("Don't" after a pause on TIMIT), all closer;
    #: without the depth check, gaps in babble noise inside words took 16 of 24 wrongly.
    pause_start_reach_s: float = 0.05
    pause_start_min_depth_db: float = 15.0
    #: A word's end moves on to a pause that starts up to this much later: a held last sound
    #: ("uh", "the" said slowly) outlasts the model's last spike.
    end_reach_s: float = 0.15
    #: A silence at least this long (longer than a stop's closure; `silences`) that a word's
    #: span takes in whole cuts it: the word keeps the longest stretch of sound left
    #: (`off_silences`). The path had put the last phone of "Jan." on the next word's onset,
    #: after 340 ms of silence, and "um" 0.78 s early into the pause before it; 0: off.
    silence_s: float = 0.25
    #: A start not on a pause moves to an energy dip this close that is `dip_min_drop_db`
    #: quieter than the start (a near-silence between words, which the signal's 5 ms levels
    #: place more sharply than the model's 20 ms frames; shallower dips are often inside
    #: a word, such as a stop's closure); 0: off.
    dip_radius_s: float = 0.02
    dip_min_drop_db: float = 10.0
    #: Words this close on the path abut (no gap between them).
    abut_s: float = 0.02
    #: A gap between two words with no pause in the signal, longer than `min_closed_gap_s`
    #: (a stop's closure, which belongs to the next word) and at most `close_gap_s`, is given
    #: to the word before (its held last sound: "slooow", "uhh"); 0: off.
    close_gap_s: float = 1.0
    min_closed_gap_s: float = 0.12
    #: A gap of at most `short_gap_s` between two words, with no pause in it, is mostly the
    #: next word's onset, which the model's lag left out: the next word starts
    #: `short_gap_share` of the way into it (the word before keeps its end). Measured: where
    #: the reference has two words touch and the path left 30-60 ms between them, the next
    #: word started 13-28 ms late (dev cases, real and synthetic); gaps up to 0.12 s took in
    #: breaths on `real_mfa_acoustic_corpus` (start p90 50.6 -> 62.7 ms); the word before
    #: ending in the gap as well cost the real recordings' end medians (TIMIT 20.7 -> 21.2
    #: ms and more); 0: off.
    short_gap_s: float = 0.06
    short_gap_share: float = 0.5
    #: Shortest word, seconds.
    min_word_s: float = 0.03
    #: An end moves on to a pause up to this much later where the sound before it stays
    #: within `hold_drop_db` of the word's median level (a held sound: "uh" on
    #: `real_mfa_cold_corpus3` ended 280 ms early); 0: off. 6 and 10 dB moved the same words.
    hold_reach_s: float = 0.3
    hold_drop_db: float = 6.0
    #: ... only where the next word starts in that pause or this soon after it (sound after
    #: the pause may be the next word, placed late).
    hold_next_slack_s: float = 0.05
    #: ... and where the sound never rises more than this above the word's last level (a
    #: rise is a new syllable: "ten" took in a misplaced "years" without this).
    hold_max_rise_db: float = 3.0
    #: A second aligner's boundary (pocketsphinx's GMM-HMM, 10 ms frames) this close to the
    #: CTC path's counts as agreeing; further, it is one of its failures (it loses whole
    #: stretches) and the path's stands. Measured: 0.06 left words both agree on to the path
    #: alone; 0.1 took in failures on one speaker on the AVX2 int8 path (start p90 77 -> 96 ms).
    second_agree_s: float = 0.08
    #: Where both agree, the boundary is this mix of the two (1: the second aligner's): its
    #: times alone raised start p90s (babble 34 -> 47 ms), the mean lowered every one.
    second_weight: float = 0.5
    #: With at least this many words whose starts agree, the other words' starts move by
    #: the median difference there (the recording's own bias: one speaker's starts came
    #: 20 ms early on the path, the others' within 4 ms), by at most `max_bias_s`.
    bias_min_anchors: int = 10
    max_bias_s: float = 0.025
    #: A word whose first phone is a sibilant (`SIBILANTS`) and whose start lies in a stretch
    #: of hiss starts where that hiss does, up to this much earlier: the model's spike for
    #: /s/ often comes at the hiss's end ("slow" 150 ms late on `real_mfa_acoustic_corpus`);
    #: 0: off. Hiss: the band above `HISS_HZ` this much louder than the voice band. Measured
    #: on every dev and measurement case: 5 dB moved no median or p90 the wrong way (0 dB
    #: did: `medium_voices`' p90 35.7 -> 36.2 ms), and 0.3 s moved nothing more than 0.2 s.
    hiss_reach_s: float = 0.2
    hiss_over_voice_db: float = 5.0
    #: A start that lies more than `voice_onset_min_s` and at most `voice_onset_reach_s`
    #: after the end of a voice-activity pause between it and the word before moves back to
    #: that end: the voice from there on is this word's ("um" and a soft "lower" after a
    #: pause, 140 and 180 ms late on `real_mfa_acoustic_corpus`); 0: off. The voice-activity
    #: model decides every 32 ms, so smaller moves are noise. Measured: 5 words move on the
    #: dev, measurement and long-form cases, 4 closer to the reference and one ("young"
    #: after an "A" the text lacks) 70 ms early; a reach of 0.3 s moved 2 more, both wrong.
    voice_onset_reach_s: float = 0.15
    voice_onset_min_s: float = 0.04
    #: The pause may overlap either word by this much (under one of the model's 32 ms steps).
    voice_onset_slack_s: float = 0.02


class FrameSource(Protocol):
    """The phone model's scores of a whole recording (`scout.RecordingFrames`)."""

    frame_s: float

    def frames(self, first: int, stop: int) -> Emissions: ...


class Pronouncer(Protocol):
    """A language's lexicon: a written word's phones, None where it cannot say it."""

    def phones(self, word: str) -> list[str] | None: ...


class WordAligner(Protocol):
    """A second aligner: each word's (start, end) in a stretch of audio, given its phones."""

    def align(
        self, samples: Samples, offset_s: float, words: Sequence[Spelled]
    ) -> list[Span] | None: ...


def _from_ipa() -> dict[str, str]:
    """The model's IPA tokens -> ARPAbet: each token stands for the first phone that lists it
    first, else the first phone that lists it at all."""
    out: dict[str, str] = {}
    for rank in range(3):
        for name, tokens in _IPA.items():
            listed = tokens.split()
            if len(listed) > rank:
                out.setdefault(listed[rank], name)
    return out


_ARPABET = _from_ipa()


def ipa_to_arpabet(tokens: Sequence[str]) -> list[str] | None:
    """IPA phone tokens (as the G2P model writes them) as ARPAbet, None if one is unknown;
    length and stress marks are dropped."""
    out: list[str] = []
    for token in tokens:
        token = token.strip("ːˈˌ")
        if not token:
            continue
        if token not in _ARPABET:
            return None
        out.append(_ARPABET[token])
    return out or None


class IndexedVocabulary:
    """The G2P model's vocabulary with its token -> id maps built once. hama 1.3.13 builds a
    map anew at every lookup (2 ms each, one per letter): 90 % of the 20-38 ms a guessed word
    took. Everything hama reads of a vocabulary is here."""

    def __init__(self, encoder: list[str], decoder: list[str]) -> None:
        self.encoder = encoder
        self.decoder = decoder
        self.encoder_token_to_id = {token: i for i, token in enumerate(encoder)}
        self.decoder_token_to_id = {token: i for i, token in enumerate(decoder)}
        self.pad_id = self.decoder_token_to_id["<pad>"]
        self.sos_id = self.decoder_token_to_id["<sos>"]
        self.eos_id = self.decoder_token_to_id["<eos>"]


class GraphemeModel:
    """The pinned grapheme-to-phoneme model: an English word the dictionary lacks -> ARPAbet
    phones (or None where it writes a phone outside the acoustic model's set)."""

    def __init__(self) -> None:
        from hama import G2PModel

        folder = _package_folder(MODEL_PACKAGE)
        for name, digest in G2P_FILES.items():
            if hashlib.sha256((folder / name).read_bytes()).hexdigest() != digest:
                raise AcousticModelError(
                    "The pronunciation model is not the pinned one: install hama==1.3.13."
                )
        encoder, decoder = (folder / name for name in G2P_FILES)
        self._model = G2PModel(
            encoder_model_path=encoder,
            decoder_step_model_path=decoder,
            vocab_path=folder / VOCAB_FILE,
            providers=["CPUExecutionProvider"],
        )
        indexed = IndexedVocabulary(self._model.vocab.encoder, self._model.vocab.decoder)
        self._model.vocab = indexed
        self._model.tokenizer.vocab = indexed

    def phones(self, word: str) -> list[str] | None:
        result = self._model.predict(word)
        return ipa_to_arpabet([a.phoneme for a in result.alignments])


class PhoneScorer(Protocol):
    """Frame-wise log-probabilities of phone classes for a stretch of audio."""

    frame_s: float

    def classes(self, phones: Sequence[str]) -> list[int] | None: ...

    def emissions(self, samples: Samples) -> Emissions: ...


#: Seconds of silence the phone model first runs on: a block of the walk with its context.
_WARM_UP_S = 10.8


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
        # Blocks are scored in several threads: with its own arena each, the session held
        # their peaks together (see engine.limit_heap_arenas).
        session_options.enable_cpu_mem_arena = False
        self._session = onnxruntime.InferenceSession(
            data, session_options, providers=["CPUExecutionProvider"]
        )
        tokens = json.loads((folder / VOCAB_FILE).read_text("utf-8"))["decoder"]
        self._columns = _class_columns([*tokens, "<wb>", "<blank>"])
        # One run on silence as long as the walk's blocks: the session's first run sets
        # itself up (0.1 s), which the first job would otherwise pay.
        self.emissions(np.zeros(round(_WARM_UP_S * SAMPLE_RATE), dtype=np.float32))

    def classes(self, phones: Sequence[str]) -> list[int] | None:
        return phone_classes(phones)

    def emissions(self, samples: Samples) -> Emissions:
        wave = samples.astype(np.float32, copy=False)[None, :]
        log_probs, lengths = self._session.run(
            ["log_probs", "out_lengths"],
            {"waveform": wave, "waveform_lengths": np.array([wave.shape[1]], dtype=np.int64)},
        )
        frames = np.asarray(log_probs[0][: int(np.asarray(lengths).reshape(-1)[0])], np.float32)
        return np.stack([frames[:, cols].max(axis=1) for cols in self._columns], axis=1)


#: Spanish phones (`spanish.py`) that no ARPAbet phone above fits -> the model's IPA tokens.
#: Measured on the benchmark's Spanish speech, the model hears Spanish /e/ mostly as its ɪ,
#: /o/ as oʊ or ɔ (and ə, left out: it is every reduced vowel's) and /r/ as ɹ: those count
#: too. Spanish /i/ and /u/ are ARPAbet's IH and UH (i/ɪ, u/ʊ).
_IPA_MORE = {
    "A_ES": "a ɑ ɐ ʌ æ",
    "E_ES": "e ɛ ɪ eɪ",
    "O_ES": "o ɔ oʊ",
    "B_ES": "b β v",
    "D_ES": "d ð",
    "G_ES": "ɡ g ɣ",
    "TH_ES": "θ s",
    "X_ES": "x χ h",
    "Y_ES": "ʝ j ʎ d͡ʒ ʒ",
    "NY_ES": "ɲ n j",
    "R_ES": "ɾ r ɹ",
}
_TOKENS = {**_IPA, **_IPA_MORE}
_CLASSES = ["<blank>", *_TOKENS]
_CLASS_INDEX = {name: i for i, name in enumerate(_CLASSES)}


def phone_classes(phones: Sequence[str]) -> list[int] | None:
    """The phone model's class index (1-based; 0 is blank) per phone (ARPAbet stress digits
    aside), None if a phone is unknown."""
    out = [_CLASS_INDEX.get(phone, _CLASS_INDEX.get(phone.rstrip("012"))) for phone in phones]
    return None if any(c is None for c in out) else [c for c in out if c is not None]


def _class_columns(tokens: list[str]) -> list[list[int]]:
    """For each class, the model's output columns that count for it (blank: blank and the
    word-boundary token, which the pass treats alike)."""
    index = {token: i for i, token in enumerate(tokens)}
    columns = [[index["<blank>"], index["<wb>"]]]
    for name in _CLASSES[1:]:
        columns.append([index[t] for t in _TOKENS[name].split() if t in index])
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
        lexicon: Pronouncer,
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
        levels: Levels | None = None,
        unvoiced: Sequence[Span] = (),
        second: WordAligner | None = None,
        frames: FrameSource | None = None,
    ) -> list[tuple[Span | None, Refinement]]:
        """Per word: its (start, end) and which pass set it; `spans` are the signal times,
        `pauses` the quiet stretches found in the signal (sharp edges: words snap to them),
        `levels` its 5 ms frame levels, `unvoiced` more stretches without voice (a voice-
        activity model's: breath or room noise that is not quiet), `second` an aligner whose
        times are mixed in where they agree with the path, `frames` the model's scores of the
        whole recording where they are at hand (else each chunk is scored on its own)."""
        spelled = [(word, self.lexicon.phones(word) or []) for word in words]
        labels = [self._labels(phones) for _, phones in spelled]
        out: list[tuple[Span | None, Refinement]] = [(span, "signal") for span in spans]
        opts = self.options
        chunks = plan_chunks(spans, [bool(lab) for lab in labels], opts)
        turns = [False, *(ends_sentence(word) for word in words[:-1])]
        onsets: list[int] = []
        on_pause: set[int] = set()
        path: dict[int, Span] = {}
        other: dict[int, Span] = {}
        with ThreadPoolExecutor(self.workers, thread_name_prefix="acoustic") as pool:
            found = pool.map(
                lambda chunk: self._align_chunk(
                    (samples, frames), chunk, labels, (spans, turns, spelled), second
                ),
                chunks,
            )
            for moved, moved_turns, seconds in found:
                onsets += moved_turns
                path.update(moved)
                other.update(seconds)
        silent = silences(pauses, unvoiced, opts.silence_s) if opts.silence_s else []
        for index, span in combine_opinions(path, other, opts).items():
            snapped = snap_to_pauses(span, pauses, opts.pause_snap_s, opts.end_reach_s)
            if snapped[0] == span[0] and levels is not None:
                snapped = onto_deep_pause_end(snapped, pauses, levels, opts)
            if silent:
                snapped = off_silences(snapped, silent, (pauses, unvoiced), opts.min_word_s)
            out[index] = (snapped, "acoustic")
            if snapped[0] != span[0]:
                on_pause.add(index)
        if levels is not None:
            smooth = smooth_levels(levels)
            if opts.dip_radius_s > 0:
                out = onto_dips(out, smooth, on_pause, opts)
            if opts.hold_reach_s > 0:
                out = hold_ends(out, smooth, pauses, opts)
        ordered = in_order(_yield_to_onsets(out, opts.min_word_s, onsets), opts.min_word_s)
        closed = close_voiced_gaps(ordered, [*pauses, *unvoiced], opts)
        if opts.hiss_reach_s > 0:
            closed = onto_hiss(closed, samples, spelled, pauses, opts)
        if opts.voice_onset_reach_s > 0:
            closed = onto_voice_onsets(closed, unvoiced, opts)
        return closed

    def labels(self, word: str) -> list[int]:
        """The model's classes for a written word's phones (empty: it cannot be spelled)."""
        return self._labels(self.lexicon.phones(word) or [])

    def _labels(self, phones: list[str]) -> list[int]:
        return (self.scorer.classes(phones) or []) if phones else []

    def _align_chunk(
        self,
        audio: tuple[Samples, FrameSource | None],
        chunk: Chunk,
        labels: Sequence[list[int]],
        words: tuple[Sequence[Span | None], Sequence[bool], Sequence[Spelled]],
        second: WordAligner | None,
    ) -> tuple[dict[int, Span], list[int], dict[int, Span]]:
        """The chunk's words moved onto the path, the turns whose new voice was found under
        the words before, and `second`'s times for the chunk's words. `audio`: the samples,
        and the recording's frame scores where they are at hand; `words`: every word's
        signal span, whether it starts a sentence, and its spelling and phones."""
        opts = self.options
        spans, turns, spelled = words
        samples, frames = audio
        if frames is not None:  # the chunk starts on a frame of the recording's scores
            first = round(chunk.start_s / frames.frame_s)
            chunk = replace(chunk, start_s=first * frames.frame_s)
            emissions = frames.frames(first, round(chunk.end_s / frames.frame_s))
        a, b = round(chunk.start_s * SAMPLE_RATE), round(chunk.end_s * SAMPLE_RATE)
        if frames is None:
            emissions = self.scorer.emissions(samples[a:b])
        found = self._path(emissions, chunk.start_s, chunk.words, labels)
        if found is None or np.mean([s for _, s in found.values()]) < opts.min_chunk_log_prob:
            logger.debug("acoustic chunk %.2f-%.2f s implausible; signal times kept", *_ext(chunk))
            return {}, [], {}
        onsets = [
            turn
            for k, turn in enumerate(chunk.words)
            if k > 0 and turns[turn] and self._turn_onset(emissions, chunk, k, (labels, found))
        ]
        moved = self._accepted(chunk.words, found, spans, labels)
        if second is None:
            return moved, onsets, {}
        return moved, onsets, _second_spans(second, samples[a:b], chunk, spelled)

    def _path(
        self, emissions: Emissions, offset_s: float, words: list[int], labels: Sequence[list[int]]
    ) -> dict[int, tuple[Span, float]] | None:
        """Each word's (start, end) on the best path through `emissions` (which start at
        `offset_s`) and its phones' mean log-probability; None if there is no path."""
        path = force_align(emissions, [label for i in words for label in labels[i]], blank=0)
        if path is None:
            return None
        found: dict[int, tuple[Span, float]] = {}
        position = 0
        before: int | None = None
        for i in words:
            phones = path[position : position + len(labels[i])]
            found[i] = word_span(phones, offset_s, self.scorer.frame_s, self.options, before)
            before = phones[-1].last
            position += len(labels[i])
        return found

    def _turn_onset(
        self,
        emissions: Emissions,
        chunk: Chunk,
        k: int,
        labels_and_found: tuple[Sequence[list[int]], dict[int, tuple[Span, float]]],
    ) -> bool:
        """At a turn (a sentence right after another) whose first word the path is unsure
        of, the next speaker may have started under the last one's last word, which the path
        gave the time: align the new sentence alone from up to `turn_search_s` earlier (not
        before that word starts). Where its first word is clearly surer there, its words take
        those times up to where both paths agree (updated in `found`). Whether it moved."""
        opts, frame = self.options, self.scorer.frame_s
        labels, found = labels_and_found
        turn = chunk.words[k]
        (onset, _), score = found[turn]
        if score >= opts.turn_unsure_log_prob:
            return False
        sentence = chunk.words[k : k + opts.turn_words]
        before = found[chunk.words[k - 1]][0][0]
        earliest = max(onset - opts.turn_search_s, before + frame)
        first = max(0, round((earliest - chunk.start_s) / frame))
        last = round((found[sentence[-1]][0][1] - chunk.start_s) / frame) + 5
        alone = self._path(emissions[first:last], chunk.start_s + first * frame, sentence, labels)
        if alone is None:
            return False
        (new_onset, _), new_score = alone[turn]
        if new_score < score + opts.turn_gain_log_prob or new_onset > onset - 2 * frame:
            return False
        for i in sentence:
            if alone[i][0][0] >= found[i][0][0] - frame:
                break
            found[i] = alone[i]
        logger.debug(
            "turn at word %d: the new voice starts at %.2f s, not %.2f", turn, new_onset, onset
        )
        return True

    def _accepted(
        self,
        words: list[int],
        found: dict[int, tuple[Span, float]],
        spans: Sequence[Span | None],
        labels: Sequence[list[int]],
    ) -> dict[int, Span]:
        """The words whose path times are taken: those the model is sure of and that moved
        plausibly far, or moved further but sit between two such words (`_sandwiched`); and
        an unsure word whose signal time does not fit between the nearest
        sure words around it (crosstalk, a crammed run), where the path, which keeps them in
        order, is the better guess."""
        opts = self.options
        sure: dict[int, Span] = {}
        for i in words:
            (span, score), old = found[i], spans[i]
            assert old is not None
            crammed = old[1] - old[0] < opts.crammed_word_s
            reach = opts.max_crammed_shift_s if crammed else opts.max_shift_s
            # How far the path takes the start out of the word's signal span (Whisper's span
            # often takes in a pause before the word: a start inside it is no move away).
            moved_s = max(0.0, old[0] - span[0], span[0] - old[1])
            if score >= opts.min_word_log_prob and moved_s <= reach:
                sure[i] = span
        sure.update(self._sandwiched(words, found, sure, labels))
        moved = dict(sure)
        for k, i in enumerate(words):
            if i in sure:
                continue
            before = next((sure[j] for j in reversed(words[:k]) if j in sure), None)
            after = next((sure[j] for j in words[k + 1 :] if j in sure), None)
            old = spans[i]
            assert old is not None
            if before is None or after is None:
                continue
            slack = opts.order_slack_s
            if not before[0] - slack < old[0] < after[0] + slack:
                moved[i] = found[i][0]
        return moved

    def _sandwiched(
        self,
        words: list[int],
        found: dict[int, tuple[Span, float]],
        sure: dict[int, Span],
        labels: Sequence[list[int]],
    ) -> dict[int, Span]:
        """The words the path is sure of (`sandwiched_min_log_prob`, at least
        `sandwiched_min_phones` phones, at most `sandwiched_max_phone_s` a phone) that lie
        between two words of `sure` but moved too far from their signal times to be sure
        themselves: Whisper put them out of their place, and they take the path's time."""
        opts = self.options
        out: dict[int, Span] = {}
        for before, i, after in zip(words, words[1:], words[2:], strict=False):
            (span, score), phones = found[i], len(labels[i])
            if i in sure or before not in sure or after not in sure:
                continue
            unstretched = span[1] - span[0] <= opts.sandwiched_max_phone_s * phones
            if (
                score >= opts.sandwiched_min_log_prob
                and phones >= opts.sandwiched_min_phones
                and unstretched
            ):
                out[i] = span
                logger.debug("word %d: sure on the path at %.2f s (%.2f)", i, span[0], score)
        return out


def word_span(
    phones: Sequence[LabelSpan],
    offset_s: float,
    frame_s: float,
    opts: AcousticOptions,
    before: int | None = None,
) -> tuple[Span, float]:
    """A word's (start, end) on a path whose frames start at `offset_s`, from its phones'
    spans (the model's spikes come late and stop early: `start_offset_s`, `end_offset_s`),
    and its phones' mean log-probability. `before`: the last frame of the previous word's
    last phone on the same path, where there is one (`packed_share`)."""
    start = offset_s + phones[0].first * frame_s + opts.start_offset_s
    if before is not None:  # close behind the word before: the model's lag is shorter
        gap = phones[0].first - before
        packed = offset_s + (before + opts.packed_share * gap) * frame_s + opts.packed_offset_s
        start = max(start, packed)
    end = offset_s + (phones[-1].last + 1) * frame_s + opts.end_offset_s
    return (start, end), float(np.mean([p.score for p in phones]))


def _second_spans(
    second: WordAligner, samples: Samples, chunk: Chunk, spelled: Sequence[Spelled]
) -> dict[int, Span]:
    """The second aligner's (start, end) per word of the chunk (empty where it failed)."""
    found = second.align(samples, chunk.start_s, [spelled[i] for i in chunk.words])
    if found is None:
        logger.debug("second aligner found no path in %.2f-%.2f s", *_ext(chunk))
        return {}
    return dict(zip(chunk.words, found, strict=True))


def combine_opinions(
    path: dict[int, Span], second: dict[int, Span], opts: AcousticOptions
) -> dict[int, Span]:
    """The CTC path's word times, with the second aligner's where they agree; the others
    shifted by the recording's own start bias, measured on the words where both agree."""
    agreed: dict[int, Span] = {}
    weight, near = opts.second_weight, opts.second_agree_s
    for i, (start, end) in path.items():
        if i not in second or abs(second[i][0] - start) > near:
            continue
        other_start, other_end = second[i]
        new_start = weight * other_start + (1 - weight) * start
        new_end = weight * other_end + (1 - weight) * end if abs(other_end - end) <= near else end
        agreed[i] = (new_start, max(new_end, new_start + opts.min_word_s))
    bias = _start_bias(path, agreed, opts)
    return {i: agreed.get(i, (span[0] + bias, span[1])) for i, span in path.items()}


def _start_bias(path: dict[int, Span], agreed: dict[int, Span], opts: AcousticOptions) -> float:
    if len(agreed) < opts.bias_min_anchors:
        return 0.0
    bias = float(np.median([agreed[i][0] - path[i][0] for i in agreed]))
    return float(np.clip(bias, -opts.max_bias_s, opts.max_bias_s))


def snap_to_pauses(
    span: Span, pauses: Sequence[Span], radius_s: float, end_reach_s: float = 0.0
) -> Span:
    """A start just after a pause moves to the pause's end, an end just before one to its
    start, where the pause edge is within `radius_s`; an end also moves on to a pause that
    starts up to `end_reach_s` later (a held last sound: the path leaves it early).
    `pauses` are in time order, as `find_pauses` gives them: only those near the word are
    looked at (an episode has thousands, and this runs for every word)."""
    start, end = span
    reach_s = max(radius_s, end_reach_s)
    # Pauses that end before both edges less the radius can move neither.
    first = bisect_left(pauses, min(start, end) - radius_s, key=lambda pause: pause[1])
    for pause_start, pause_end in (pauses[i] for i in range(first, len(pauses))):
        if pause_start - end > reach_s:
            break  # this pause and every later one lie beyond both edges' reach
        if abs(pause_end - start) <= radius_s and pause_end < end:
            start = pause_end
        reach = -radius_s <= pause_start - end <= reach_s
        if reach and pause_start > start:
            end = pause_start
            break
    return start, end


def silences(pauses: Sequence[Span], unvoiced: Sequence[Span], shortest_s: float) -> list[Span]:
    """Stretches without voice of at least `shortest_s`, in time order (they may overlap):
    the level's pauses, and those joined with the voice-activity model's (`unvoiced`) where
    they overlap or lie within `_JOIN_S`, that the voice-activity model finds without voice
    for at least half their length (a quiet stretch it hears voice in is a soft sound) and
    that lie below the level's threshold for at least a quarter (the voice-activity model
    alone misses hums and drawls: "and..." on `real_mfa_acoustic_corpus`). Both inputs are
    in time order, each apart."""
    joined: list[Span] = []
    for start, end in sorted([*pauses, *unvoiced]):
        if joined and start <= joined[-1][1] + _JOIN_S:
            joined[-1] = (joined[-1][0], max(joined[-1][1], end))
        else:
            joined.append((start, end))
    return sorted(
        {
            (start, end)
            for start, end in {*pauses, *joined}
            if end - start >= shortest_s
            and 2 * _overlap(start, end, unvoiced) >= end - start
            and 4 * _overlap(start, end, pauses) >= end - start
        }
    )


#: Level pauses and voice-activity pauses this close are one silence (that model decides
#: every 32 ms, the levels every 5 ms).
_JOIN_S = 0.02
#: Where the voice-activity model puts a silence's edge further in than the level does by
#: more than this (three of its 32 ms steps), the voice runs on under the level's threshold
#: (or the level's pause is noise); nearer, the level's sharper edge stands.
_VOICE_OVER_LEVEL_S = 0.1


def off_silences(
    span: Span,
    silent: Sequence[Span],
    quiet: tuple[Sequence[Span], Sequence[Span]],
    min_word_s: float,
) -> Span:
    """A span that takes in whole `silent` stretches (in time order) keeps the longest of
    the stretches of sound they leave it, where that is at least `min_word_s` long, with its
    edge at a silence where the voice stops or starts (`_voice_edge`). `quiet`: the level's
    pauses and the voice-activity model's, each in time order and apart."""
    start, end = span
    pieces = [start]
    first = bisect_right(silent, start, key=lambda stretch: stretch[0])
    for a, b in (silent[i] for i in range(first, len(silent))):
        if a >= end:
            break
        if b > end:
            continue
        if a <= pieces[-1]:  # overlaps the stretch before
            pieces[-1] = max(pieces[-1], b)
        else:
            pieces += [a, b]
    pieces.append(end)
    if len(pieces) == 2:
        return span
    stretches = list(zip(pieces[0::2], pieces[1::2], strict=True))
    k = max(range(len(stretches)), key=lambda i: stretches[i][1] - stretches[i][0])
    kept_start, kept_end = stretches[k]
    if k > 0:  # a silence before: the voice starts where its last voiceless stretch ends
        kept_start = _voice_edge(pieces[2 * k - 1], kept_start, quiet, at_start=True)
    if k < len(stretches) - 1:  # a silence after: the voice stops where its first one starts
        kept_end = _voice_edge(kept_end, pieces[2 * k + 2], quiet, at_start=False)
    if kept_end - kept_start < min_word_s:
        return span
    return kept_start, kept_end


def _voice_edge(
    a: float, b: float, quiet: tuple[Sequence[Span], Sequence[Span]], at_start: bool
) -> float:
    """Where the voice starts after the silence [a, b] (`at_start`) or stops before it: at
    the level's edge (the last end of its pauses in the silence, or the first start), unless
    the voice-activity model's lies more than `_VOICE_OVER_LEVEL_S` further into the
    silence: then at the model's (noise over the level's threshold before it: "um" after a
    0.67 s pause on `real_mfa_cold_corpus3`; or a hum under it after the word)."""
    pauses, unvoiced = quiet
    level = _inside(a, b, pauses)
    voice = _inside(a, b, unvoiced)
    if not level or not voice:
        return b if at_start else a
    if at_start:
        edge, heard = max(end for _, end in level), max(end for _, end in voice)
        return heard if heard - edge > _VOICE_OVER_LEVEL_S else edge
    edge, heard = min(start for start, _ in level), min(start for start, _ in voice)
    return heard if heard - edge > _VOICE_OVER_LEVEL_S else edge


def _inside(a: float, b: float, spans: Sequence[Span]) -> Sequence[Span]:
    """The spans (in time order, apart) that overlap [a, b]."""
    return spans[
        bisect_right(spans, a, key=lambda span: span[1]) : bisect_left(
            spans, b, key=lambda span: span[0]
        )
    ]


def _overlap(start: float, end: float, spans: Sequence[Span]) -> float:
    """How much of [start, end] the spans (in time order, apart) cover."""
    first = bisect_right(spans, start, key=lambda span: span[1])
    covered = 0.0
    for a, b in (spans[i] for i in range(first, len(spans))):
        if a >= end:
            break
        covered += min(b, end) - max(a, start)
    return covered


def onto_deep_pause_end(
    span: Span, pauses: Sequence[Span], levels: Levels, opts: AcousticOptions
) -> Span:
    """A start up to `pause_start_reach_s` before the end of a deep pause (one whose level
    lies `pause_start_min_depth_db` below the 0.1 s after it: not a gap in noise) moves on to
    that end: the model's spike put it in the silence. `pauses` are in time order."""
    start, end = span
    first = bisect_right(pauses, start, key=lambda pause: pause[1])
    # The first pause ending past the snap's reach (`snap_to_pauses` took nearer ends).
    pause_start, pause_end = next(
        (p for p in pauses[first : first + 3] if p[1] - start > opts.pause_snap_s), (end, end)
    )
    if pause_end - start > opts.pause_start_reach_s or pause_end >= end:
        return span
    a, b = round(pause_start / LEVEL_FRAME_S), round(pause_end / LEVEL_FRAME_S)
    c = min(len(levels), b + round(0.1 / LEVEL_FRAME_S))
    if b <= a or c <= b:
        return span
    depth_db = float(np.median(levels[b:c]) - np.median(levels[a:b]))
    return (pause_end, end) if depth_db >= opts.pause_start_min_depth_db else span


def hold_ends(
    words: list[tuple[Span | None, Refinement]],
    smooth: npt.NDArray[np.float64],
    pauses: Sequence[Span],
    opts: AcousticOptions,
) -> list[tuple[Span | None, Refinement]]:
    """A word's end moves on to a pause that starts up to `hold_reach_s` later, before the
    next word, where the sound up to it stays within `hold_drop_db` of the word's own median
    level: a held last sound ("uhh") that the path cut short. `pauses` are in time order."""
    out = list(words)
    frame = LEVEL_FRAME_S
    for k, ((span, how), following) in enumerate(zip(words, _next_spans(words), strict=True)):
        if span is None or how != "acoustic":
            continue
        limit = span[1] + opts.hold_reach_s
        if following is not None:
            limit = min(limit, following[0])
        # The next word must start in that pause (or soon after it): sound between the
        # pause and a next word placed later may be that word, not this one's tail.
        pause = None
        first = bisect_right(pauses, span[1], key=lambda p: p[0])  # pauses after the end
        for a, b in (pauses[i] for i in range(first, len(pauses))):
            if a > limit:
                break
            if following is None or following[0] <= b + opts.hold_next_slack_s:
                pause = a
                break
        if pause is None:
            continue
        word = smooth[round(span[0] / frame) : round(span[1] / frame)]
        held = smooth[round(span[1] / frame) : round(pause / frame)]
        if len(word) and len(held) and _held(word, held, opts):
            out[k] = ((span[0], pause), how)
    return out


def _next_spans(words: Sequence[tuple[Span | None, Refinement]]) -> list[Span | None]:
    """Per word, the span of the next word that has one (None for the last)."""
    following: list[Span | None] = []
    nearest: Span | None = None
    for span, _ in reversed(words):
        following.append(nearest)
        nearest = span if span is not None else nearest
    return following[::-1]


def _held(
    word: npt.NDArray[np.float64], after: npt.NDArray[np.float64], opts: AcousticOptions
) -> bool:
    """Whether the sound after a word is its held tail: never far below the word's median
    level, and never rising above where the word ends (a rise is a new syllable)."""
    loud_enough = after.min() >= np.median(word) - opts.hold_drop_db
    return bool(loud_enough and after.max() <= after[0] + opts.hold_max_rise_db)


#: Phones whose sound is a hiss above the voice band (frication).
SIBILANTS = frozenset({"S", "Z", "SH", "ZH", "CH", "JH"})
#: Where a sibilant's hiss lies, and the voice band it is weighed against (not tuned: /s/
#: carries its energy above about 4 kHz, /ʃ/ above 2.5, a voice's first formants below 1.5).
HISS_HZ = 3500.0
VOICE_BAND_HZ = (100.0, 1500.0)
#: Each `LEVEL_FRAME_S` frame is weighed over twice its length (a Hann window).
_HISS_WINDOW = 2 * round(LEVEL_FRAME_S * SAMPLE_RATE)


def hiss_over_voice_db(samples: Samples, first: int, stop: int) -> npt.NDArray[np.float64]:
    """Per `LEVEL_FRAME_S` frame in [first, stop): how much louder the band above `HISS_HZ`
    is than the voice band, in dB (frame k weighs the 10 ms from k * 5 ms)."""
    hop = _HISS_WINDOW // 2
    stop = min(stop, (len(samples) - _HISS_WINDOW) // hop + 1)
    if stop <= first:
        return np.zeros(0)
    at = hop * np.arange(first, stop)[:, None] + np.arange(_HISS_WINDOW)[None, :]
    power = np.abs(np.fft.rfft(samples[at] * np.hanning(_HISS_WINDOW), axis=1)) ** 2
    hz = np.fft.rfftfreq(_HISS_WINDOW, 1 / SAMPLE_RATE)
    low, high = VOICE_BAND_HZ
    hiss = power[:, hz >= HISS_HZ].sum(axis=1)
    voice = power[:, (hz >= low) & (hz < high)].sum(axis=1)
    return np.asarray(10.0 * np.log10((hiss + 1e-10) / (voice + 1e-10)), dtype=np.float64)


def onto_hiss(
    words: list[tuple[Span | None, Refinement]],
    samples: Samples,
    spelled: Sequence[Spelled],
    pauses: Sequence[Span],
    opts: AcousticOptions,
) -> list[tuple[Span | None, Refinement]]:
    """A word whose first phone is a sibilant and whose start lies in a stretch of hiss
    starts where the stretch does: up to `hiss_reach_s` earlier, never back into a pause
    (`pauses`, in time order, not overlapping: a quiet stretch's noise may read as hiss) nor
    within `min_word_s` of the start of the word before, which then ends there if it ran on.

    Frame k weighs the 10 ms from k * 5 ms, and the stretch starts with its first frame: the
    first window that takes in hiss (measured: windows' centres put `real_emu_ae`'s median
    12.5 -> 16.2 ms). After a word that ends in a sibilant the two hisses are one stretch,
    and the word may take in the end of the one before; skipping those words cost more
    (`real_emu_ae` 12.5 -> 14.1 ms median, `joined_real_only` 25.8 -> 26.3)."""
    out = list(words)
    frame = LEVEL_FRAME_S
    previous: int | None = None  # the last word before this one with a time
    for k, (span, how) in enumerate(words):
        if span is None:
            continue
        before, previous = previous, k
        phones = spelled[k][1]
        if how != "acoustic" or not phones or phones[0] not in SIBILANTS:
            continue
        prior = out[before][0] if before is not None else None
        lowest = span[0] - opts.hiss_reach_s
        if prior is not None:
            lowest = max(lowest, prior[0] + opts.min_word_s)
        quiet = bisect_left(pauses, span[0], key=lambda pause: pause[0]) - 1
        if quiet >= 0:  # the last pause that starts before the word: not back into it
            lowest = max(lowest, min(pauses[quiet][1], span[0]))
        first = max(0, math.ceil(lowest / frame - 1e-9))
        at = round(span[0] / frame)
        if at < first:
            continue
        hiss = hiss_over_voice_db(samples, first, at + 1) > opts.hiss_over_voice_db
        if len(hiss) != at + 1 - first or not hiss[-1]:
            continue  # no hiss where the word starts (or the recording ends there)
        hushed = np.flatnonzero(~hiss)
        start = round((first + (int(hushed[-1]) + 1 if len(hushed) else 0)) * frame, 3)
        if start >= span[0]:
            continue
        out[k] = ((start, span[1]), how)
        if before is not None and prior is not None and prior[1] > start:
            out[before] = ((prior[0], start), out[before][1])
    return out


def onto_voice_onsets(
    words: list[tuple[Span | None, Refinement]],
    unvoiced: Sequence[Span],
    opts: AcousticOptions,
) -> list[tuple[Span | None, Refinement]]:
    """A word's start moves back to where the voice resumes after a voice-activity pause
    that lies between it and the word before, where that is more than `voice_onset_min_s`
    and at most `voice_onset_reach_s` earlier. `unvoiced` is in time order, its stretches
    apart (as `audio.quiet_spans_vad` and `BlockVad` give them)."""
    slack = opts.voice_onset_slack_s
    out = list(words)
    previous: Span | None = None
    for k, (span, how) in enumerate(words):
        if span is None:
            continue
        before, previous = previous, span
        if before is None or how != "acoustic":
            continue
        last = bisect_right(unvoiced, span[0] + slack, key=lambda pause: pause[1]) - 1
        if last < 0 or unvoiced[last][0] < before[1] - slack:
            continue
        onset = round(max(unvoiced[last][1], before[1]), 3)
        if opts.voice_onset_min_s < round(span[0] - onset, 3) <= opts.voice_onset_reach_s:
            out[k] = ((onset, span[1]), how)
    return out


def close_voiced_gaps(
    words: list[tuple[Span | None, Refinement]], pauses: Sequence[Span], opts: AcousticOptions
) -> list[tuple[Span | None, Refinement]]:
    """A gap between two words with no pause in it, longer than a stop's closure, is the
    first word's held last sound: the word ends where the next starts. A short one (up to
    `short_gap_s`) is mostly the next word's onset: that word starts partway into it."""
    shortest_s, longest_s = opts.min_closed_gap_s, opts.close_gap_s
    reaches_into = Reach(pauses)
    out = list(words)
    for k in range(len(out) - 1):
        (span, how), (following, next_how) = out[k], out[k + 1]
        if span is None or following is None or how != "acoustic":
            continue
        gap = following[0] - span[1]
        held = shortest_s < gap <= longest_s
        onset = 0 < gap <= opts.short_gap_s and next_how == "acoustic"
        if not (held or onset) or reaches_into(span[1], following[0]):
            continue
        if held:
            out[k] = ((span[0], following[0]), how)
        else:
            start = round(span[1] + opts.short_gap_share * gap, 3)
            out[k + 1] = ((start, following[1]), next_how)
    return out


def _ext(chunk: Chunk) -> tuple[float, float]:
    return chunk.start_s, chunk.end_s


def onto_dips(
    words: list[tuple[Span | None, Refinement]],
    smooth: npt.NDArray[np.float64],
    on_pause: set[int],
    opts: AcousticOptions,
) -> list[tuple[Span | None, Refinement]]:
    """A word's start that is not on a pause moves onto a deep energy dip close by: later
    always; earlier only where the word before runs up to it on the path (a dip in a gap
    before the word is silence the word starts after)."""
    out = list(words)
    for k, (span, how) in enumerate(out):
        if span is None or how != "acoustic" or k in on_pause:
            continue
        dip = nearest_dip(smooth, span[0], opts.dip_radius_s, opts.dip_min_drop_db)
        before = out[k - 1][0] if k > 0 else None
        abuts = before is not None and before[1] >= span[0] - opts.abut_s
        if dip > span[0] or (dip < span[0] and abuts):
            out[k] = ((min(dip, span[1] - opts.min_word_s), span[1]), how)
    return out


def _yield_to_onsets(
    words: list[tuple[Span | None, Refinement]], min_word_s: float, onsets: Sequence[int]
) -> list[tuple[Span | None, Refinement]]:
    """Where a new voice was found to start under the word before it, that word ends by its
    start (it keeps its own start: words stay in order)."""
    out = list(words)
    for turn in onsets:
        onset, (span, how) = out[turn][0], out[turn - 1]
        if onset is not None and span is not None:
            out[turn - 1] = ((span[0], max(span[0] + min_word_s, min(span[1], onset[0]))), how)
    return out


def in_order(
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
