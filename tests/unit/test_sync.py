"""The long-form logic of `sync` on planted timelines, with a scripted model (no Whisper).

Each test plants what the audio holds (spoken words, music, an advert, foreign speech) and
the text a user sends, then checks which words are placed where: every spoken word of the
text near its planted time, nothing unspoken placed, nothing inside the other sound, order
kept, and the loop ending.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable

import pytest

from alignment.forced import MAX_TEXT_TOKENS, EncodedWindow, TimedToken
from alignment.sync import Placement, Synchronizer, SyncOptions
from tests.scripted import ScriptedModel, ScriptedPhones, Spoken, Timeline, synchronize

STORY_TEXT = (
    "Every morning before sunrise the fishing boats leave the small harbor and head for the "
    "open sea while the old captains read the wind from the color of the sky and most of "
    "them still trust their grandfathers rules more than any forecast they could buy "
    "when storms gather over distant islands wives wait on stone piers watching gulls circle "
    "above tangled nets children race barefoot between drying hulls shouting names nobody "
    "remembers later merchants haggle loudly over silver mackerel glistening beneath canvas "
    "awnings until noon bells ring across rooftops"
)
STORY = STORY_TEXT.split()
HEADER = "Episode 42 show notes recorded in Lisbon sponsored by Acme Widgets use code PODCAST"
ADVERT = "this show is brought to you by Brightline mattresses sleep better tonight order now"
GERMAN = "Guten Abend meine Damen und Herren heute sprechen wir ueber das Wetter in den Bergen"


Walk = Callable[[Timeline, str], tuple[list[Placement | None], ScriptedModel]]


@pytest.fixture(params=["windows only", "phone path first"])
def walk(request: pytest.FixtureRequest) -> Walk:
    """The walk as it runs for a language without a phone model (Whisper's windows alone)
    and for English (the phone model's path first, windows where it is not sure): every
    scenario must come out right both ways."""

    def run(timeline: Timeline, text: str) -> tuple[list[Placement | None], ScriptedModel]:
        phones = ScriptedPhones(timeline, text.split()) if request.param != "windows only" else None
        return synchronize(timeline, text, phones=phones)

    return run


def sentences(count: int, offset: int = 0) -> list[str]:
    """`count` distinct sentences of 8 words (distinct so that a misplacement shows)."""
    words = itertools.cycle(STORY)
    for _ in range(offset * 8):
        next(words)
    return [" ".join(f"{next(words)}" for _ in range(8)) for _ in range(count)]


def check_spoken(
    timeline: Timeline, text: str, placed: list[Placement | None], spoken_from: int = 0
) -> dict[int, Spoken]:
    """Map text word k (from `spoken_from`) to its planted word, in order; assert each placed
    word starts within 0.3 s of its planted start and placements keep the text's order."""
    words = text.split()
    planted = iter(w for w in sorted(timeline.spoken, key=lambda w: w.start))
    truth: dict[int, Spoken] = {}
    for k in range(spoken_from, len(words)):
        for w in planted:
            if w.text == words[k]:
                truth[k] = w
                break
    starts = [p.start for p in placed if p is not None]
    assert starts == sorted(starts), "placements out of order"
    for k, word in truth.items():
        p = placed[k]
        if p is not None:
            assert abs(p.start - word.start) <= 0.3, (k, words[k], p, word)
    return truth


def coverage(placed: list[Placement | None], indices: list[int]) -> float:
    return sum(placed[k] is not None for k in indices) / len(indices)


def test_clean_read_is_placed_word_for_word(walk: Walk) -> None:
    timeline = Timeline(duration_s=120.0)
    t = 1.0
    body = sentences(20)
    for sentence in body:
        t = timeline.say(sentence, t) + 0.6
    text = " ".join(body)
    placed, _ = walk(timeline, text)
    truth = check_spoken(timeline, text, placed)
    assert coverage(placed, list(truth)) == 1.0


def test_header_and_music_intro_then_title_is_found(walk: Walk) -> None:
    """Unspoken show notes over a music intro; the title spoken right after the music."""
    timeline = Timeline(duration_s=90.0)
    t = timeline.play(0.0, 12.0) + 0.2
    body = ["Part five Stalked by Shadows", *sentences(8)]
    for sentence in body:
        t = timeline.say(sentence, t) + 0.5
    text = HEADER + " " + " ".join(body)
    placed, _ = walk(timeline, text)
    header = len(HEADER.split())
    assert all(p is None for p in placed[:header])
    truth = check_spoken(timeline, text, placed, spoken_from=header)
    assert coverage(placed, list(truth)) == 1.0
    assert all(p is not None and p.start >= 12.0 for p in placed[header:])


def test_words_after_an_advert_are_found_and_none_in_it(walk: Walk) -> None:
    timeline = Timeline(duration_s=150.0)
    before, after = sentences(6), sentences(6, offset=6)
    t = 0.5
    for sentence in before:
        t = timeline.say(sentence, t) + 0.5
    advert_start = t + 0.5
    # A long, fast read: more words than one transcription holds (its token budget).
    t = timeline.say(" ".join([ADVERT] * 6), advert_start, word_s=0.22, gap_s=0.03)
    advert_end = timeline.play(t, t + 3.0)  # and a jingle
    t = advert_end + 0.3
    for sentence in after:
        t = timeline.say(sentence, t) + 0.5
    text = " ".join(before + after)
    placed, _ = walk(timeline, text)
    truth = check_spoken(timeline, text, placed)
    assert coverage(placed, list(truth)) == 1.0
    assert not any(p and advert_start - 0.1 < p.start < advert_end for p in placed)


def test_dropped_sentence_is_not_placed_and_the_rest_is(walk: Walk) -> None:
    timeline = Timeline(duration_s=80.0)
    body = sentences(10)
    t = 0.5
    for n, sentence in enumerate(body):
        if n != 4:
            t = timeline.say(sentence, t) + 0.5
    text = " ".join(body)
    placed, _ = walk(timeline, text)
    dropped = range(4 * 8, 5 * 8)
    assert sum(placed[k] is not None for k in dropped) <= 1
    truth = check_spoken(timeline, text, placed)
    kept = [k for k in truth if k not in dropped]
    assert coverage(placed, kept) == 1.0


def test_inserted_foreign_speech_is_skipped(walk: Walk) -> None:
    timeline = Timeline(duration_s=90.0)
    body = sentences(10)
    t = 0.5
    for n, sentence in enumerate(body):
        t = timeline.say(sentence, t) + 0.5
        if n == 2:
            insert_start = t
            t = timeline.say(GERMAN, t) + 0.5
            insert_end = t
    text = " ".join(body)
    placed, _ = walk(timeline, text)
    truth = check_spoken(timeline, text, placed)
    assert coverage(placed, list(truth)) == 1.0
    assert not any(p and insert_start + 0.1 < (p.start + p.end) / 2 < insert_end for p in placed)


def test_short_utterance_then_new_speaker_after_a_pause(walk: Walk) -> None:
    """A three-word utterance, a 1.5 s pause, then other speakers: nothing after it is lost."""
    timeline = Timeline(duration_s=60.0)
    t = timeline.say("Good morning everyone", 0.4) + 1.5
    body = sentences(6)
    for sentence in body:
        t = timeline.say(sentence, t, word_s=0.22) + 1.5
    text = "Good morning everyone " + " ".join(body)
    placed, _ = walk(timeline, text)
    truth = check_spoken(timeline, text, placed)
    assert coverage(placed, list(truth)) == 1.0


REFRAIN = "and we sail on through the night until the morning comes"


def sing(timeline: Timeline, verses: list[str], unsung: int | None = None) -> str:
    """Each verse then the refrain, into the timeline (but verse `unsung` and its refrain,
    which only the text has); returns the text."""
    t = 0.5
    for n, verse in enumerate(verses):
        if n != unsung:
            t = timeline.say(verse, t) + 0.5
            t = timeline.say(REFRAIN, t) + 1.0
    return " ".join(f"{verse} {REFRAIN}" for verse in verses)


def test_refrain_repeated_ten_times_each_copy_in_its_own_place(walk: Walk) -> None:
    timeline = Timeline(duration_s=200.0)
    text = sing(timeline, sentences(10))
    placed, _ = walk(timeline, text)
    truth = check_spoken(timeline, text, placed)  # within 0.3 s: the right copy
    assert coverage(placed, list(truth)) >= 0.99


def test_refrain_with_a_verse_missing_from_the_audio_keeps_to_its_copy(walk: Walk) -> None:
    """The text has a verse the audio lacks: its refrain copy must not pull the next one."""
    verses = sentences(8)
    timeline = Timeline(duration_s=160.0)
    text = sing(timeline, verses, unsung=3)
    placed, _ = walk(timeline, text)
    words = text.split()
    per_copy = len(verses[0].split()) + len(REFRAIN.split())
    missing = range(3 * per_copy, 4 * per_copy)
    assert sum(placed[k] is not None for k in missing) <= 2
    later = [k for k in range(4 * per_copy, len(words))]
    assert coverage(placed, later) == 1.0
    check_spoken(timeline, " ".join(words[4 * per_copy :]), placed[4 * per_copy :])


def test_three_hour_episode_ends_and_places_everything(walk: Walk) -> None:
    timeline = Timeline(duration_s=3 * 3600.0)
    body: list[str] = []
    t = 0.5
    n = 0
    while t < timeline.duration_s - 10.0:
        sentence = sentences(1, offset=n % 7)[0]
        t = timeline.say(sentence, t, word_s=0.25) + 0.4
        body.append(sentence)
        n += 1
    text = " ".join(body)
    placed, model = walk(timeline, text)
    truth = check_spoken(timeline, text, placed)
    assert coverage(placed, list(truth)) >= 0.999
    assert model.aligned < 3 * 3600 / 27 * 1.5  # about one window per hop: no crawling


def test_a_long_music_bed_does_not_make_the_walk_crawl(walk: Walk) -> None:
    """Ten minutes of music where nothing is heard: the walk moves on in growing steps."""
    timeline = Timeline(duration_s=700.0)
    t = timeline.say(sentences(1)[0], 0.5) + 0.5
    music_end = timeline.play(t, t + 600.0)
    body = sentences(4, offset=1)
    t = music_end + 0.5
    for sentence in body:
        t = timeline.say(sentence, t) + 0.5
    text = sentences(1)[0] + " " + " ".join(body)
    placed, model = walk(timeline, text)
    truth = check_spoken(timeline, text, placed)
    assert coverage(placed, list(truth)) == 1.0
    assert model.aligned + model.transcribed < 120


def test_the_word_heard_again_at_a_window_start_is_not_matched_to_a_later_copy(walk: Walk) -> None:
    """A window starts just before the last kept word; the text ahead repeats that word
    after a passage the audio lacks. The repeat must not take the kept word's time."""
    timeline = Timeline(duration_s=60.0)
    first, dropped, last = sentences(3)
    t = timeline.say(first + " and most", 0.5) + 0.6
    t = timeline.say(last, t)
    text = f"{first} and most {dropped} and most {last}"
    placed, _ = walk(timeline, text)
    words = text.split()
    starts = [p.start for p in placed if p is not None]
    assert len(starts) == len(set(starts)), "two words placed on one spoken word"
    repeat = len(first.split()) + 2 + len(dropped.split())
    assert placed[repeat] is None and placed[repeat + 1] is None, words[repeat : repeat + 2]


def test_a_phrase_said_after_unclear_speech_is_not_matched_to_its_copy_in_it(walk: Walk) -> None:
    """Speech the model makes nothing of (neither aligned nor transcribed) says a phrase
    that the clear speech after it says again: the heard phrase belongs to the later copy of
    the text, which fits the time the unclear speech took, not to the copy a few words on."""
    phrase = "a local baker"
    timeline = Timeline(duration_s=120.0)
    before = " ".join(sentences(4))
    unclear = f"{sentences(1, offset=4)[0]} {phrase} painted {' '.join(sentences(5, offset=5))}"
    after = f"{phrase} visited {' '.join(sentences(6, offset=1))}"
    t = timeline.say(before, 0.5) + 0.5
    t = timeline.mumble(unclear, t) + 0.5
    t = timeline.say(after, t)
    text = f"{before} {unclear} {after}"
    placed, _ = walk(timeline, text)
    words = text.split()
    later = len(words) - len(after.split())
    said_after = sorted(timeline.spoken, key=lambda w: w.start)[later:]
    for k, word in enumerate(said_after, start=later):
        p = placed[k]
        assert p is None or abs(p.start - word.start) <= 0.3, (k, words[k], p, word)
    assert coverage(placed, list(range(later, len(words)))) >= 0.95
    copy = len(before.split()) + len(sentences(1)[0].split())
    assert words[copy : copy + 3] == phrase.split()
    assert all(placed[k] is None for k in range(copy, copy + 3)), placed[copy : copy + 3]


def _episode_with_stops() -> tuple[Timeline, str]:
    """Twenty minutes of speech with dropped sentences and adverts: the walk leaves the
    grid several times."""
    timeline = Timeline(duration_s=1300.0)
    text_parts: list[str] = []
    t = 0.5
    for n in range(120):
        sentence = sentences(1, offset=n % 11)[0]
        text_parts.append(sentence)
        if n % 37 == 20:
            continue  # a dropped sentence
        t = timeline.say(sentence, t) + 0.5
        if n % 40 == 30:
            t = timeline.say(" ".join([ADVERT] * 4), t, word_s=0.22, gap_s=0.03) + 1.0
    return timeline, " ".join(text_parts)


def test_batched_encoding_gives_the_same_words_and_encodes_little_in_vain() -> None:
    """On a GPU windows are encoded in batches ahead of the walk. Stops and resyncs (an
    advert, a dropped passage) take the walk off the grid: the batch must not be thrown away
    and re-encoded each time, and the words must come out exactly as one window at a time."""
    timeline, text = _episode_with_stops()
    one, single = synchronize(timeline, text, batch_size=1)
    many, batched = synchronize(timeline, text, batch_size=8)
    assert many == one
    # The batch doubles along the grid, so a stop right after a doubling wastes some; the
    # rule that cleared the batch on every miss encoded 5x here.
    assert batched.encoded <= 1.5 * single.encoded, (batched.encoded, single.encoded)


class _LongWords(ScriptedModel):
    """Tokens per word as many as its letters (names and numbers take many tokens); records
    the most tokens one forced alignment was given."""

    most_tokens = 0

    def token_ids(self, text: str) -> list[int]:
        return super().token_ids(text) * len(text)

    def align(self, window: EncodedWindow, words: list[list[int]]) -> list[TimedToken]:
        self.most_tokens = max(self.most_tokens, sum(len(w) for w in words))
        return super().align(window, [w[:1] for w in words])


def test_a_window_gets_no_more_text_than_the_decoder_takes_with_its_context() -> None:
    """Short words first, long ones later: the context a window repeats (the words placed in
    its overlap) is long, and the text offered after it must fit what that context leaves."""
    timeline = Timeline(duration_s=200.0)
    short = " ".join(f"w{k % 10}" for k in range(60))
    long = " ".join(f"{'abcdefghij'[k % 10] * 24}{k}" for k in range(120))
    t = timeline.say(short, 0.5, word_s=0.2) + 0.5
    timeline.say(long, t, word_s=0.9, gap_s=0.1)
    text = f"{short} {long}"
    model = _LongWords(timeline)
    options = SyncOptions(
        window_s=30.0, hop_s=27.0, edge_guard_s=2.0, min_word_probability=0.1, batch_size=1
    )
    sync = Synchronizer(model, timeline.samples(), timeline.levels(), text.split(), options)
    placed = sync.run(lambda fraction: None)
    assert model.most_tokens <= MAX_TEXT_TOKENS
    assert sum(p is not None for p in placed) >= 0.95 * len(placed)


def test_words_kept_before_a_match_lead_the_same_window_on_without_a_new_encode() -> None:
    """The text says "under yonder pale skies calm but silent" where the audio says "under
    distant cloudy heavens calm and silent": the first window stops at the three misheard
    words, the window started there finds the text going on at "calm" (transcription) and
    keeps the three at their forced times. The rest of that same window is then aligned
    again with them as context: no third window is encoded at the match (the old walk did)."""
    timeline = Timeline(duration_s=150.0)
    body = sentences(14)
    text_words: list[str] = []
    t = 0.5
    for n, sentence in enumerate(body):
        if n == 4:
            t = timeline.say("under distant cloudy heavens calm and silent", t) + 0.05
            text_words += ["under", "yonder", "pale", "skies", "calm", "but", "silent"]
        t = timeline.say(sentence, t) + 0.5
        text_words += sentence.split()
    text = " ".join(text_words)
    placed, model = synchronize(timeline, text)
    assert model.transcribed == 1
    # The first window, the one started at the stop ("under"), then the grid from there.
    under = timeline.spoken[32].start
    first, at_stop, next_on_grid = model.encoded_starts
    assert first < under < at_stop + 0.2 and abs(at_stop - (under - 0.1)) < 0.01
    assert abs(next_on_grid - (at_stop + 27.0)) < 0.01
    spoken = sorted(timeline.spoken, key=lambda w: w.start)
    for k, (word, placement) in enumerate(zip(spoken, placed, strict=True)):
        assert placement is not None, (k, word)
        assert abs(placement.start - word.start) <= 0.3, (k, word, placement)


def test_the_last_window_with_two_unclear_words_left_ends_the_walk() -> None:
    """The text's last two words are not what is said: the last window is offered only those
    two (improbable) words. Looking for a clear run after them must not run off the end of
    the words (it raised IndexError, and the whole alignment failed)."""
    timeline = Timeline(duration_s=33.0)
    body = sentences(10)
    t = 0.5
    for sentence in body:
        t = timeline.say(sentence, t) + 0.5
    timeline.say("quite different", t)
    text = " ".join([*body, "wholly unrelated"])
    placed, _ = synchronize(timeline, text)
    truth = check_spoken(timeline, text, placed)
    assert coverage(placed, list(truth)) == 1.0
    assert len(placed) == len(text.split())


def _synchronizer(text: str) -> Synchronizer:
    timeline = Timeline(30.0)
    timeline.say(text, 1.0)
    options = SyncOptions(30.0, 27.0, 2.0, min_word_probability=0.1, batch_size=1)
    model = ScriptedModel(timeline)
    return Synchronizer(model, timeline.samples(), timeline.levels(), text.split(), options)


@pytest.mark.parametrize(
    ("forced", "lacking"),
    [
        # A cut sentence crammed in before the words said after it, the first of which are
        # squeezed with it: up to its full stop.
        ([(6.1, 6.3, 0.0), (6.3, 6.4, 0.0), (6.4, 6.4, 0.3), (6.4, 6.4, 0.8), (6.4, 6.42, 0.0),
          (6.42, 6.42, 0.3), (6.42, 7.0, 0.9)], 5),
        # No sentence end in the run: the whole run.
        ([(6.1, 6.3, 0.0), (6.3, 6.35, 0.01), (6.35, 6.35, 0.3), (6.35, 6.36, 0.05),
          (6.4, 7.0, 0.9)], 4),
        # Three are no run; nor is a run with nothing said after it.
        ([(6.1, 6.15, 0.0), (6.15, 6.2, 0.0), (6.2, 6.2, 0.3), (6.2, 7.0, 0.9)], 0),
        ([(6.1, 6.15, 0.0), (6.15, 6.2, 0.0), (6.2, 6.2, 0.3), (6.2, 6.2, 0.3)], 0),
        # Improbable words with room: speech the model makes little of, not missing text.
        ([(6.1, 6.4, 0.0), (6.4, 6.7, 0.0), (6.7, 7.0, 0.02), (7.0, 7.3, 0.05),
          (7.3, 7.6, 0.9)], 0),
        # Said words with room and probability: nothing lacking.
        ([(6.1, 6.5, 0.8), (6.5, 6.5, 0.0), (6.5, 6.5, 0.3), (6.5, 6.5, 0.3), (6.5, 7, 0.9)], 0),
    ],
)  # fmt: skip
def test_text_crammed_before_a_match_is_the_text_the_audio_lacks(
    forced: list[tuple[float, float, float]], lacking: int
) -> None:
    """The forced times of the words before a match (Whisper's DTW places every token): a
    leading run of improbable or squeezed words is text the audio lacks, up to its last
    sentence end; what follows is said (found again by the walk from there)."""
    text = "this was cut it aired. The captains read the wind"
    sync = _synchronizer(text)
    words = text.split()
    timed = [TimedToken(words[k], a, b, p) for k, (a, b, p) in enumerate(forced)]
    assert sync._lacking_run(timed) == lacking
