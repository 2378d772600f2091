"""The Aligner: loads a model once and turns (audio, transcript) into per-word times."""

from __future__ import annotations

import ctypes
import logging
import os
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Executor, Future, ThreadPoolExecutor
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass, replace
from pathlib import Path
from typing import BinaryIO

import ctranslate2
import numpy as np
from faster_whisper.tokenizer import _LANGUAGE_CODES, Tokenizer

from alignment.acoustic import AcousticRefiner, GraphemeModel, PhoneModel, Pronouncer
from alignment.audio import (
    LEVEL_FRAME_S,
    SAMPLE_RATE,
    BlockVad,
    Levels,
    Samples,
    frame_levels_db,
    has_sound,
    load_audio,
    load_vad_model,
)
from alignment.errors import InvalidOptionError, NoSpeechError, UnsupportedLanguageError
from alignment.forced import EncodedWindow, WindowAligner
from alignment.lexicon import Lexicon
from alignment.refine import RefineOptions, find_pauses, model_lag_s, refine
from alignment.scout import PhoneScout, RecordingFrames
from alignment.spanish import SpanishLexicon
from alignment.sphinx import SphinxAligner
from alignment.stages import (
    OneWindowModel,
    SecondWindowAsked,
    SeededWindowModel,
    StageClock,
    TimedWindowModel,
    profile_line,
)
from alignment.sync import Placement, Synchronizer, SyncOptions, WindowModel, next_sound
from alignment.text import TextToken, decode_transcript, spoken_form, tokenize
from alignment.types import (
    ACOUSTIC_REFINEMENTS,
    REFINEMENTS,
    AlignmentOptions,
    AlignmentResult,
    ProgressCallback,
    Refinement,
    Word,
    WordStatus,
)
from alignment.weights import LoadedModel, load_model

logger = logging.getLogger(__name__)

#: Each language of the acoustic pass and how its lexicon loads (English: the CMU
#: Pronouncing Dictionary, with the G2P model for words it lacks; Spanish: spelling rules).
_LEXICONS: dict[str, Callable[[], Pronouncer]] = {
    "en": lambda: Lexicon.load(guess=GraphemeModel().phones),
    "es": SpanishLexicon,
}
#: The languages the acoustic pass and the phone path serve: those with a lexicon.
ACOUSTIC_LANGUAGES = frozenset(_LEXICONS)

#: Silence after the audio of a recording shorter than one window, where its window is
#: encoded short (`Aligner._walk`): with 1 s every word of the bench's cases stayed the same
#: with `tiny.en` on both int8 paths (bench/RESULTS.md).
TAIL_PADDING_S = 1.0

#: The most 30 s windows encoded in one call. Past about 16 a GPU is busy already and the
#: gain is small, while memory grows with every window (large-v3: about 60 MB each in
#: float16, plus the encoder's working memory); the CPU gains nothing past 1.
MAX_BATCH_SIZE = 32

AudioSource = str | Path | BinaryIO


def cpu_threads_for(cpu_threads: int) -> int:
    """Threads for the model, the phone model's blocks and the acoustic pass: `cpu_threads`,
    or with 0 every core up to 16. One model copy takes them all: a second copy encoding the
    next grid window while the walk aligned this one was slower everywhere it was measured
    (bench/RESULTS.md), on 2 cores (no core is spare to pay for the windows a stop makes
    useless) and on 16 (10.2 s against 12.7 s on 15 minutes with the phone path, 11.9 against
    13.6 s with Whisper's walk alone): the path and every stop leave most windows encoded ahead
    unused, and one copy's 16 threads encode a window about as fast."""
    return max(1, cpu_threads or min(available_cores(), 16))


def available_cores() -> int:
    """The cores this process may run on (a container's cpuset, not the host's count)."""
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def vad_threads(cpu_threads: int) -> int:
    """Threads for voice activity, one block of audio each: half of the threads (one on 2
    cores, beside decoding). On a GPU host it is the longest stage: with 16 cores and an H200,
    15 minutes took 2.5 s with 8 threads, 2.9 s with 4 and 2.9-3.4 s with one; on the CPU
    alone it made no difference (bench/RESULTS.md)."""
    return max(1, cpu_threads_for(cpu_threads) // 2)


@contextmanager
def dropping_pool(threads: int, name: str) -> Iterator[ThreadPoolExecutor]:
    """A thread pool that drops its queued work when the body fails, and waits only for what
    is running: a silent or broken file does not wait for voice activity on up to 16 blocks
    that nobody will read."""
    pool = ThreadPoolExecutor(threads, thread_name_prefix=name)
    try:
        yield pool
    except BaseException:
        pool.shutdown(wait=True, cancel_futures=True)
        raise
    pool.shutdown(wait=True)


#: glibc's mallopt parameter for the most heap arenas (malloc.h: M_ARENA_MAX).
_M_ARENA_MAX = -8


def limit_heap_arenas() -> None:
    """Let glibc's allocator keep fewer heap arenas than its default of eight per core.

    The walk allocates in several threads at once (the phone model's blocks, Whisper's
    windows, voice activity); glibc gives each its own arena and keeps what one thread frees
    for that thread, so the process held the peaks of all of them: 740 MB on the long-form
    case instead of 680 (bench/RESULTS.md). A setting of MALLOC_ARENA_MAX wins; other C
    libraries are left as they are."""
    if "MALLOC_ARENA_MAX" in os.environ:
        return
    try:
        libc = ctypes.CDLL("libc.so.6")
    except OSError:
        return
    libc.mallopt(_M_ARENA_MAX, max(2, available_cores() // 4))


def _no_progress(stage: str, fraction: float) -> None:
    del stage, fraction


class Aligner:
    """Holds one loaded model; `align` may be called many times, by up to
    `options.concurrent_calls` threads at once."""

    def __init__(self, options: AlignmentOptions | None = None) -> None:
        self.options = options or AlignmentOptions()
        check_options(self.options)
        limit_heap_arenas()
        self._model: LoadedModel | None = None
        self._acoustic: dict[str, AcousticRefiner] = {}
        self._phones: PhoneModel | None = None
        self._load_lock = threading.Lock()  # the acoustic models and pocketsphinx load once
        self._second: SphinxAligner | None = None

    @property
    def model(self) -> LoadedModel:
        if self._model is None:
            self._model = load_model(
                self.options.model,
                device=self.options.device,
                compute_type=self.options.compute_type,
                device_index=self.options.device_index,
                concurrent_calls=self.options.concurrent_calls,
                cpu_threads=cpu_threads_for(self.options.cpu_threads),
                cache_dir=Path(self.options.model_cache_dir)
                if self.options.model_cache_dir
                else None,
            )
            if self.options.vad_pauses:
                load_vad_model()
            limit = self._model.max_batch_size
            if limit is not None and self.options.batch_size > limit:
                logger.warning(
                    "batch_size %d does not fit in the GPU's memory with %s; using %d",
                    self.options.batch_size,
                    self.options.model,
                    limit,
                )
        return self._model

    @property
    def acoustic(self) -> AcousticRefiner:
        """The phone-level refiner for English (its models and dictionary load on first use;
        the service loads them before its first job)."""
        return self.acoustic_for("en")

    def acoustic_for(self, language: str) -> AcousticRefiner:
        """The phone-level refiner for a language of `ACOUSTIC_LANGUAGES`: one phone model,
        each language's own lexicon (loaded on first use, once however many calls ask)."""
        if language not in _LEXICONS:
            raise UnsupportedLanguageError(
                f"The acoustic pass has no lexicon for {language!r}; it knows "
                f"{', '.join(sorted(_LEXICONS))}. Use refine=signal for other languages."
            )
        with self._load_lock:
            if language not in self._acoustic:
                if self._phones is None:
                    self._phones = PhoneModel()
                threads = cpu_threads_for(self.options.cpu_threads)
                self._acoustic[language] = AcousticRefiner(
                    self._phones, _LEXICONS[language](), workers=threads
                )
            return self._acoustic[language]

    @property
    def second_opinion(self) -> SphinxAligner:
        """pocketsphinx's aligner for `refine="precise"` (loaded on first use)."""
        with self._load_lock:
            if self._second is None:
                self._second = SphinxAligner(cpu_threads_for(self.options.cpu_threads))
            return self._second

    def align(
        self,
        audio: AudioSource | Samples,
        transcript: bytes | str,
        *,
        language: str | None = None,
        refine: Refinement | None = None,
        progress: ProgressCallback = _no_progress,
    ) -> AlignmentResult:
        """Align `transcript` (raw bytes or text) to `audio` (a file, or 16 kHz samples);
        `language` and `refine` override the Aligner's options for this call."""
        how = refine or self.options.refine
        _check_refine(how)
        timings: dict[str, float] = {}
        stages = StageClock()
        clock = time.perf_counter()
        text = decode_transcript(transcript)
        tokens = tokenize(text)
        progress("decode", 0.0)
        # Voice activity (for the refinement) runs in background threads on each block of
        # audio as soon as it is decoded, then beside the first windows' alignment.
        with dropping_pool(vad_threads(self.options.cpu_threads), "vad") as background:
            vad = self._block_vad(background, how, stages)
            with stages.stage("decode"):
                samples = self._decode(audio, vad)
                levels = frame_levels_db(samples)
            timings["decode_s"] = time.perf_counter() - clock
            progress("decode", 1.0)
            if not has_sound(levels):
                raise NoSpeechError(
                    "The audio is silent. Send the episode's audio with speech in it."
                )
            clock = time.perf_counter()
            model = self.model
            timings["load_model_s"] = time.perf_counter() - clock
            signal = _Signal(levels, samples, vad.finish(samples) if vad is not None else None)
            clock = time.perf_counter()
            aligner, lang, detected = self._window_aligner(
                model, signal, language or self.options.language, stages
            )
            with self._recording_frames(samples, (lang, how), stages) as frames:
                signal = replace(signal, frames=frames)
                placements = self._walk(aligner, detected, signal, stages, (tokens, progress, lang))
                timings["align_s"] = time.perf_counter() - clock

                clock = time.perf_counter()
                progress("refine", 0.0)
                words = self._words(tokens, placements, signal, (lang, how), stages)
                timings["refine_s"] = time.perf_counter() - clock
                progress("refine", 1.0)
        logger.info("profile: %s", profile_line(stages.report()))
        return AlignmentResult(
            words=tuple(words),
            language=lang,
            model=self.options.model,
            device=model.device,
            duration_s=signal.duration_s,
            options=replace(self._effective_options(lang), refine=how),
            timings_s={k: round(v, 3) for k, v in timings.items()},
            stages=stages.report(),
        )

    def _block_vad(self, pool: Executor, how: Refinement, stages: StageClock) -> BlockVad | None:
        if how == "none" or not self.options.vad_pauses:
            return None
        return BlockVad(pool, lambda seconds: stages.add("vad", seconds))

    @staticmethod
    def _decode(audio: AudioSource | Samples, vad: BlockVad | None) -> Samples:
        on_chunk = vad.add if vad is not None else None
        if isinstance(audio, np.ndarray):
            if on_chunk is not None:
                on_chunk(audio)
            return audio
        return load_audio(audio, on_chunk=on_chunk)

    def _walk(
        self,
        aligner: WindowAligner,
        detected: list[EncodedWindow],
        signal: _Signal,
        stages: StageClock,
        text: tuple[list[TextToken], ProgressCallback, str],
    ) -> list[Placement | None]:
        """Every word's placement by the walk (`text`: the words, the progress to report and
        the language).
        A recording shorter than one window, whose words the acoustic pass re-times, is
        first walked with one window encoded as its audio and `TAIL_PADDING_S` of silence
        (stable-ts does so too: 0.1 s less of a 25 s recording's 0.7 with `base`). Where that
        walk needs a second window or leaves words unplaced after the last one it placed, it
        is walked again with 30 s windows, the ones measured there:
        - text that runs past the audio, which Whisper spreads over the silence after the
          audio, crowds the last spoken words on a short window (a 0.6 s "hello" with seven
          words after it was not found);
        - on a recording that needs several windows (crosstalk), short ones moved words.
        """
        tokens, progress, language = text

        def walk(model: WindowModel, report: ProgressCallback) -> list[Placement | None]:
            timed = SeededWindowModel(TimedWindowModel(model, stages), detected)
            return self._sync(timed, signal, (tokens, language), stages, report)

        one_window = len(signal.samples) < self.options.window_s * SAMPLE_RATE
        # Windows encoded ahead in batches (batch_size > 1) would always ask for a second.
        one_at_a_time = self._sync_options().batch_size == 1
        if signal.frames is None or detected or not one_window or not one_at_a_time:
            return walk(aligner, progress)
        try:
            placements = walk(OneWindowModel(aligner.with_tail_padding(TAIL_PADDING_S)), progress)
        except SecondWindowAsked:
            logger.debug("the short window's walk asked for another: walked with 30 s windows")
            return walk(aligner, _no_progress)
        if not placements or placements[-1] is None:
            logger.debug("words unplaced at the short window's end: walked with 30 s windows")
            return walk(aligner, _no_progress)
        return placements

    def _sync(
        self,
        aligner: WindowModel,
        signal: _Signal,
        text: tuple[list[TextToken], str],
        stages: StageClock,
        progress: ProgressCallback,
    ) -> list[Placement | None]:
        tokens, language = text
        speech = [spoken_form(t.text) for t in tokens if t.kind == "speech"]
        frames = signal.frames
        sync = Synchronizer(
            aligner,
            signal.samples,
            signal.levels,
            speech,
            self._sync_options(),
            self._scout(frames, speech, language, stages) if frames is not None else None,
        )
        placements = sync.run(lambda fraction: progress("align", fraction))
        logger.info(
            "aligned %d words: %d steps on the phone path, %d windows, %d resyncs",
            len(speech),
            sync.phone_steps,
            sync.windows_encoded,
            sync.resyncs,
        )
        return placements

    def _recording_frames(
        self, samples: Samples, language_and_refine: tuple[str, Refinement], stages: StageClock
    ) -> AbstractContextManager[RecordingFrames | None]:
        """The phone model's scores of the recording, for its walk ahead of Whisper and the
        acoustic pass, with the default refinement in a language of `ACOUSTIC_LANGUAGES`.
        Otherwise None: Whisper's windows place every word, and with `precise` the acoustic
        pass scores each chunk on its own, as before the path (that costlier setting is for
        precision, not speed: on `real_mfa_acoustic_corpus`, where the path handed over to
        Whisper's window in the middle of "words words words words", the window placed the
        fourth a second late; Whisper's walk alone placed it right). On a GPU, too: there
        Whisper's windows are encoded in batches and cost little, while the phone model runs
        on the CPU; the walk stays as measured for the GPU path (issue 16)."""
        language, how = language_and_refine
        on_gpu = self.model.device == "cuda"
        if language not in ACOUSTIC_LANGUAGES or how != "acoustic" or on_gpu:
            return nullcontext()
        return RecordingFrames(
            self.acoustic_for(language).scorer,
            samples,
            lambda seconds: stages.add("phones", seconds),
            workers=cpu_threads_for(self.options.cpu_threads),
        )

    def _scout(
        self, frames: RecordingFrames, words: list[str], language: str, stages: StageClock
    ) -> PhoneScout:
        """The phone model's walk ahead of Whisper (in a language the lexicons know)."""
        acoustic = self.acoustic_for(language)
        return PhoneScout(
            frames,
            [acoustic.labels(word) for word in words],
            acoustic.options,
            on_path=lambda s: stages.add("path", s),
            shift_s=model_lag_s(self.options.model),
        )

    def _sync_options(self) -> SyncOptions:
        batch = self.options.batch_size or (8 if self.model.device == "cuda" else 1)
        batch = min(batch, self.model.max_batch_size or batch)  # what the GPU's memory holds
        return SyncOptions(
            window_s=self.options.window_s,
            hop_s=self.options.hop_s,
            edge_guard_s=self.options.edge_guard_s,
            min_word_probability=self._min_word_probability(),
            batch_size=batch,
        )

    def _effective_options(self, language: str) -> AlignmentOptions:
        """The options as actually used, so that a result says how to reproduce it."""
        return replace(
            self.options,
            language=language,
            device="cuda" if self.model.device == "cuda" else "cpu",
            compute_type=self.model.compute_type,
            min_word_probability=self._min_word_probability(),
            batch_size=self._sync_options().batch_size,
        )

    def _min_word_probability(self) -> float:
        if self.options.min_word_probability is not None:
            return self.options.min_word_probability
        return 0.03 if self.model.multilingual else 0.1

    def _window_aligner(
        self, model: LoadedModel, signal: _Signal, language: str | None, stages: StageClock
    ) -> tuple[WindowAligner, str, list[EncodedWindow]]:
        """The window model for the language (detected when not given), and the windows
        encoded to detect it, for the walk to use rather than encode again."""
        hf_tokenizer = model.whisper.hf_tokenizer
        if not model.multilingual:
            if language not in (None, "en"):
                raise UnsupportedLanguageError(
                    f"The model {model.name!r} only knows English; for {language!r} use a "
                    "multilingual model such as base, small or large-v3."
                )
            return (
                WindowAligner(model, Tokenizer(hf_tokenizer, False, "transcribe", "en")),
                "en",
                [],
            )
        detected: list[EncodedWindow] = []
        if language is None:
            language, window = _detect_language(model, signal, self._sync_options(), stages)
            detected.append(window)
        elif language not in _LANGUAGE_CODES:
            raise UnsupportedLanguageError(
                f"{language!r} is not a language Whisper knows; use an ISO 639-1 code such as "
                "en, es or de, or leave it out to detect it."
            )
        aligner = WindowAligner(model, Tokenizer(hf_tokenizer, True, "transcribe", language))
        return aligner, language, detected

    def _words(
        self,
        tokens: list[TextToken],
        placements: list[Placement | None],
        signal: _Signal,
        language_and_refine: tuple[str, Refinement],
        stages: StageClock,
    ) -> list[Word]:
        speech = [t for t in tokens if t.kind == "speech"]
        times = self._times(speech, placements, signal, language_and_refine, stages)
        times = [(_inside(span, signal.duration_s), how) for span, how in times]
        words: list[Word] = []
        speech_index = 0
        for index, token in enumerate(tokens):
            if token.kind == "markup":
                words.append(_word(index, token, None, 0.0, "non_speech"))
                continue
            placement, (span, how) = placements[speech_index], times[speech_index]
            speech_index += 1
            if placement is None or span is None:
                words.append(_word(index, token, None, 0.0, "not_found"))
            else:
                score = round(placement.probability, 3)
                words.append(_word(index, token, span, score, "aligned", how))
        return words

    def _times(
        self,
        speech: list[TextToken],
        placements: list[Placement | None],
        signal: _Signal,
        language_and_refine: tuple[str, Refinement],
        stages: StageClock,
    ) -> list[tuple[tuple[float, float] | None, Refinement]]:
        """Final (start, end) per spoken word, and the refinement that set it."""
        (levels, samples), (language, how) = (signal.levels, signal.samples), language_and_refine
        lag = model_lag_s(self.options.model)
        if how == "none":
            return [((p.start - lag, p.end - lag) if p else None, "none") for p in placements]
        extra = signal.quiet.result() if signal.quiet is not None else None
        with stages.stage("refine"):
            times = refine(placements, levels, lag, extra_pauses=extra)
        if how == "signal" or language not in ACOUSTIC_LANGUAGES:
            if how in ACOUSTIC_REFINEMENTS:
                logger.debug("no acoustic pass for %r: signal refinement only", language)
            return [(span, "signal") for span in times]
        pauses = [(p.start, p.end) for p in find_pauses(levels, RefineOptions().min_pause_s)]
        words = [t.text for t in speech]
        # pocketsphinx's model and dictionary are English: Spanish gets the pass alone.
        second = self.second_opinion if how == "precise" and language == "en" else None
        with stages.stage("acoustic"):
            out = self.acoustic_for(language).refine(
                samples, words, times, pauses, levels, extra or (), second, signal.frames
            )
        # The pass marks its words "acoustic"; with the second opinion, "precise".
        mark: Refinement = "precise" if second is not None else "acoustic"
        return [(span, mark if kind == "acoustic" else kind) for span, kind in out]


@dataclass(frozen=True)
class _Signal:
    """The decoded audio, its 5 ms levels, the voice-activity pauses under way, and the
    phone model's scores."""

    levels: Levels
    samples: Samples
    quiet: Future[list[tuple[float, float]]] | None
    #: The phone model's scores of the whole recording (languages the lexicons know).
    frames: RecordingFrames | None = None

    @property
    def duration_s(self) -> float:
        """The audio's length, to the millisecond, as the result gives it."""
        return round(len(self.samples) / SAMPLE_RATE, 3)


def _inside(span: tuple[float, float] | None, duration_s: float) -> tuple[float, float] | None:
    """A word's times within the audio: the model's lag taken off a first word (`none`),
    or an end offset on a last word cut off by the recording's end, put them outside it."""
    if span is None:
        return None
    start = min(max(span[0], 0.0), duration_s)
    return start, min(max(span[1], start), duration_s)


def _word(
    index: int,
    token: TextToken,
    span: tuple[float, float] | None,
    score: float,
    status: WordStatus,
    refinement: Refinement | None = None,
) -> Word:
    start, end = span if span is not None else (None, None)
    return Word(
        index, token.text, token.char_start, token.char_end, start, end, score, status, refinement
    )


def _detect_language(
    model: LoadedModel, signal: _Signal, options: SyncOptions, stages: StageClock
) -> tuple[str, EncodedWindow]:
    """The language of the first window with speech in it, and that window's encoding. It
    is the walk's first window (the same span) when speech starts within 10 s of it, else
    the window from just before the speech."""
    samples, levels = signal.samples, signal.levels
    duration_s = len(samples) / SAMPLE_RATE
    loud = np.flatnonzero(levels > -50.0)
    speech_s = float(loud[0]) * LEVEL_FRAME_S if len(loud) else 0.0
    first_window = next_sound(levels, 0.0, options.tunables.silence_db, duration_s)
    shared = (
        first_window < duration_s
        and speech_s - first_window <= options.tunables.detect_in_first_window_s
    )
    start_s = first_window if shared else max(0.0, speech_s - 0.5)
    span = (start_s, min(start_s + options.window_s, duration_s))
    window = WindowAligner(model, Tokenizer(model.whisper.hf_tokenizer, True, "transcribe", "en"))
    encoded = TimedWindowModel(window, stages).encode(samples, [span])[0]
    ranked = model.whisper.model.detect_language(
        ctranslate2.StorageView.from_array(encoded.encoder_output)
    )[0]
    token, probability = ranked[0]
    language = str(token)[2:-2]
    logger.debug(
        "language %s (%.2f) from %.2f-%.2f s: %s",
        language,
        probability,
        *span,
        "the walk's first window, encoded once"
        if shared
        else f"speech starts {speech_s - first_window:.1f} s into the first window, so its own",
    )
    return language, encoded


def is_known_language(code: str) -> bool:
    """Whether Whisper knows this ISO 639-1 code."""
    return code in _LANGUAGE_CODES


def is_english_only(model: str) -> bool:
    """Whether a model knows only English, as far as its name tells (Whisper's `.en` models:
    `tiny.en`, `distil-small.en`); a folder says it only once loaded."""
    return Path(model).name.endswith(".en")


def check_options(options: AlignmentOptions) -> None:
    """Refuse options that cannot work, with invalid_option, before any model is loaded."""
    if not 1.0 <= options.window_s <= 30.0:
        raise InvalidOptionError("window_s must be between 1 and 30 seconds.")
    if not 0.5 <= options.hop_s <= options.window_s - options.edge_guard_s:
        raise InvalidOptionError(
            "hop_s must be at least 0.5 s and at most window_s - edge_guard_s."
        )
    if not 0 <= options.batch_size <= MAX_BATCH_SIZE:
        raise InvalidOptionError(
            f"batch_size must be 0 (the default: 8 on a GPU, 1 on the CPU) to "
            f"{MAX_BATCH_SIZE} windows, not {options.batch_size}."
        )
    if options.device_index < 0 or options.concurrent_calls < 1:
        raise InvalidOptionError("device_index must be 0 or more and concurrent_calls 1 or more.")
    _check_refine(options.refine)
    if options.language is not None and options.language not in _LANGUAGE_CODES:
        raise UnsupportedLanguageError(
            f"{options.language!r} is not a language Whisper knows; use an ISO 639-1 code."
        )


def _check_refine(refine: str) -> None:
    if refine not in REFINEMENTS:
        raise InvalidOptionError("refine must be 'acoustic', 'precise', 'signal' or 'none'.")


def align(
    audio: AudioSource | Samples,
    transcript: bytes | str,
    *,
    options: AlignmentOptions | None = None,
    progress: ProgressCallback = _no_progress,
) -> AlignmentResult:
    """One-shot convenience: load the model, align, return the result."""
    return Aligner(options).align(audio, transcript, progress=progress)
