"""Plain result and option types of the engine (frozen dataclasses, times in seconds)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

WordStatus = Literal["aligned", "not_found", "non_speech"]
#: How word boundaries are sharpened after Whisper places the words: "acoustic" (phone-level
#: CTC model, falling back to "signal" where it cannot), "precise" (the acoustic pass with a
#: second opinion, pocketsphinx's GMM-HMM alignment, where the two agree: finer, about 3.5
#: times the pass's cost), "signal" (pauses and energy dips), "none" (Whisper's times less
#: the model's lag).
Refinement = Literal["acoustic", "precise", "signal", "none"]
REFINEMENTS: tuple[Refinement, ...] = ("acoustic", "precise", "signal", "none")
#: The refinements that run the acoustic pass (English and Spanish; other languages get
#: "signal"; "precise" adds its second opinion in English only).
ACOUSTIC_REFINEMENTS: tuple[Refinement, ...] = ("acoustic", "precise")

#: Called with (stage, fraction of that stage done, 0..1).
ProgressCallback = Callable[[str, float], None]


@dataclass(frozen=True)
class StageTime:
    """Seconds spent in one stage of an alignment, summed over its calls (a stage that runs
    in a background thread overlaps others: the seconds need not add up to the wall time)."""

    stage: str
    seconds: float
    calls: int


@dataclass(frozen=True)
class Word:
    """One word of the user's transcript and where it is spoken."""

    index: int
    text: str
    char_start: int
    char_end: int
    start: float | None
    end: float | None
    score: float
    status: WordStatus
    #: Which refinement set this word's times (None for words without times).
    refinement: Refinement | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class AlignmentOptions:
    """Everything that changes the result; echoed back so a run can be reproduced."""

    model: str = "tiny.en"
    language: str | None = None
    device: Literal["auto", "cpu", "cuda"] = "auto"
    compute_type: str = "auto"
    cpu_threads: int = 0
    #: Which GPU (ignored on the CPU).
    device_index: int = 0
    #: How many threads may align with this model at once: CTranslate2 keeps that many
    #: replicas, which share one copy of the weights on a GPU.
    concurrent_calls: int = 1
    batch_size: int = 0
    window_s: float = 30.0
    hop_s: float = 27.0
    edge_guard_s: float = 2.0
    #: "acoustic" and "precise" need a language the acoustic pass knows (English, Spanish);
    #: other languages get "signal", and each word says which it got. The second opinion of
    #: "precise" is English only: Spanish words get "acoustic".
    refine: Refinement = "acoustic"
    #: Also find pauses with a voice-activity model (Silero): catches breathy or noisy pauses.
    vad_pauses: bool = True
    #: Below this a word's token probability is suspect; None: 0.1 for English-only models,
    #: 0.03 for multilingual ones (they spread probability over more spellings).
    min_word_probability: float | None = None
    model_cache_dir: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class AlignmentResult:
    """Per-word times for a whole transcript, plus what produced them."""

    words: tuple[Word, ...]
    language: str
    model: str
    device: str
    duration_s: float
    options: AlignmentOptions
    timings_s: dict[str, float] = field(default_factory=dict)
    #: Seconds and calls per stage (decode, vad, encode, align, transcribe, refine, acoustic),
    #: for finding where time goes; not part of `to_dict`.
    stages: tuple[StageTime, ...] = ()

    def count(self, status: WordStatus) -> int:
        return sum(1 for word in self.words if word.status == status)

    def to_dict(self) -> dict[str, Any]:
        return {
            "language": self.language,
            "model": self.model,
            "device": self.device,
            "duration_s": self.duration_s,
            "options": self.options.to_dict(),
            "timings_s": dict(self.timings_s),
            "counts": {s: self.count(s) for s in ("aligned", "not_found", "non_speech")},
            "words": [word.to_dict() for word in self.words],
        }
