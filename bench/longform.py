"""Makes the long-form benchmark case: a 45+ minute two-host episode with an unspoken show-notes
header, a music intro, an advert the text lacks, and ~1 % ASR-style word errors in the text.

The audio and reference times come from the dev benchmark's eSpeak NG case generator
(`shared/bench/tools/make_tts_case.py`); this module only writes the spec it builds from.
"""

from __future__ import annotations

import json
import random
import subprocess
import sys
from pathlib import Path

HEADER = (
    "Quiet Engines, episode 118: The Harbour Economy. Published 20 September 2024. Show notes "
    "and links at quietengines dot example. This episode is sponsored by Northwind Coffee. "
    "Transcript generated automatically and may contain errors."
)
ADVERT = (
    "This episode is brought to you by Northwind Coffee. Northwind roasts small batches every "
    "morning and ships them the same day, so your beans arrive fresh. Try the harbour blend, "
    "with notes of caramel and dark chocolate, or the decaf that does not taste like decaf. "
    "Go to northwind dot example and use the code ENGINES for twenty percent off your first "
    "bag. Northwind Coffee. Good mornings, delivered. "
) * 2

_SUBJECTS = """the harbour master|a young engineer|the old ferry|our city council|the fishing
co-op|my grandmother|the night shift|a delivery driver|the port authority|the weather service|
a local baker|the museum curator|the lighthouse keeper|the school board|a retired captain|the
rail company|an insurance broker|the tide gauge|a marine biologist|the river pilot""".replace(
    "\n", " "
).split("|")
_VERBS = """checked|repaired|measured|described|ignored|rebuilt|painted|mapped|questioned|
counted|explained|photographed|replaced|studied|defended|recorded|moved|tested|sold|
visited""".replace("\n", "").split("|")
_OBJECTS = """the north pier|every buoy in the channel|the cargo cranes|the old warehouse|the
harbour wall|a broken radar|the ferry timetable|the salt marshes|the fuel depot|the tide
tables|a leaking hull|the signal lamps|the customs house|the fish market|the dry dock|a rusty
anchor|the sea defences|the container yard|the mooring lines|the ice plant""".replace(
    "\n", " "
).split("|")
_TAILS = """before the storm arrived|during the long winter|after the council meeting|in
nineteen eighty seven|while the town was asleep|for almost twenty years|on a cold Tuesday
morning|without telling anyone|with surprising patience|as the tide went out|because nobody
else would|in front of the whole crew|at the end of every season|with a borrowed toolkit|
just after the war|under a grey sky|for less than ten pounds|despite the rain|on the
last day of the festival|with help from the volunteers""".replace("\n", " ").split("|")
_OPENERS = """Honestly,|You know,|To be fair,|Funny thing is,|Back then,|In the end,|Believe it
or not,|Meanwhile,|Later that year,|As it turns out,""".replace("\n", " ").split("|")
_CONFUSIONS = {
    "the": "a",
    "a": "the",
    "their": "there",
    "there": "their",
    "in": "and",
    "and": "in",
    "for": "four",
    "to": "too",
    "on": "in",
    "with": "which",
    "was": "is",
    "every": "very",
    "had": "has",
    "would": "could",
    "before": "for",
    "after": "other",
}
VOICES = [
    {"voice": "en-us", "rate": 178, "pitch": 42, "range": 55},
    {"voice": "en-gb+f1", "rate": 162, "pitch": 70, "range": 70},
]


def _sentence(rng: random.Random) -> str:
    opener = rng.choice(_OPENERS) + " " if rng.random() < 0.3 else ""
    text = (
        f"{rng.choice(_SUBJECTS)} {rng.choice(_VERBS)} {rng.choice(_OBJECTS)} {rng.choice(_TAILS)}"
    )
    text = opener + text
    return text[0].upper() + text[1:] + rng.choice([".", ".", ".", "?", "!"])


def _with_asr_errors(said: str, rng: random.Random, rate: float) -> str:
    """The transcript as an ASR system might have written it: a few confusable words swapped."""
    tokens = said.split(" ")
    for i, token in enumerate(tokens):
        core = token.strip(".,?!").lower()
        if core in _CONFUSIONS and rng.random() < rate * 4:
            tokens[i] = token.replace(core, _CONFUSIONS[core], 1)
    return " ".join(tokens)


def build_spec(minutes: float = 46.0, seed: int = 118) -> dict[str, object]:
    rng = random.Random(seed)
    words_needed = int(minutes * 165)
    segments: list[dict[str, object]] = [
        {"type": "text_only", "text": HEADER, "text_sep": "\n\n"},
        {"type": "music", "duration": 18.0, "gain_db": -16},
        {"type": "silence", "duration": 0.8},
    ]
    words = 0
    turn = 0
    advert_at = words_needed // 2
    advert_done = False
    while words < words_needed:
        said = " ".join(_sentence(rng) for _ in range(rng.randint(3, 6)))
        voice = VOICES[turn % 2]
        segments.append(
            {
                "type": "speech",
                "text": _with_asr_errors(said, rng, 0.01),
                "spoken_text": said,
                **voice,
                "pause_after": round(rng.uniform(0.3, 1.4), 2),
                "text_sep": "\n\n",
            }
        )
        words += len(said.split())
        turn += 1
        if not advert_done and words >= advert_at:
            segments.append({"type": "music", "duration": 3.0, "gain_db": -18})
            segments.append(
                {
                    "type": "speech",
                    "text": ADVERT.strip(),
                    "in_text": False,
                    "voice": "en-us+m3",
                    "rate": 185,
                    "pitch": 55,
                    "range": 60,
                    "pause_after": 0.8,
                    "label": "advert",
                }
            )
            advert_done = True
    return {
        "name": "longform_episode",
        "audio": "audio.mp3",
        "bitrate": "64k",
        "sample_rate": 22050,
        "lead_silence": 0.5,
        "tail_silence": 1.5,
        "seed": seed,
        "notes": "Long-form episode made by podalign's bench/longform.py: show-notes header "
        "(not spoken), 18 s music intro, two alternating hosts, a 3 s music sting and an "
        "advert (not in the text) halfway, ~1% ASR-style word substitutions in the text.",
        "segments": segments,
    }


def make_case(out_dir: Path, generator: Path, minutes: float = 46.0) -> Path:
    """Build the case folder once (cached by its spec)."""
    spec = build_spec(minutes)
    spec_path = out_dir / "spec.json"
    cached = (out_dir / "truth.json").is_file() and spec_path.is_file()
    if cached and json.loads(spec_path.read_text()) == spec:
        return out_dir
    out_dir.mkdir(parents=True, exist_ok=True)
    spec_path.write_text(json.dumps(spec, indent=1))
    subprocess.run([sys.executable, str(generator), str(spec_path), str(out_dir)], check=True)
    return out_dir
