"""Cue layout over hand-made words: breaks, wrapping, timing, speakers, unconfirmed words."""

from __future__ import annotations

import itertools

import pytest

from alignment.captions import CaptionOptions, cues_for, display_words
from alignment.errors import InvalidOptionError
from alignment.types import Word, WordStatus


def spoken(text: str, start_s: float = 0.0, step_s: float = 0.3, gap_s: float = 0.0) -> list[Word]:
    """Aligned words, one every `step_s` (words last step_s - gap_s)."""
    words = []
    at = 0
    for i, token in enumerate(text.split()):
        start = round(start_s + i * step_s, 3)
        words.append(
            Word(
                i,
                token,
                at,
                at + len(token),
                start,
                round(start + step_s - gap_s, 3),
                0.9,
                "aligned",
            )
        )
        at += len(token) + 1
    return words


def renumbered(words: list[Word]) -> list[Word]:
    return [
        Word(i, w.text, w.char_start, w.char_end, w.start, w.end, w.score, w.status)
        for i, w in enumerate(words)
    ]


def markup(text: str) -> Word:
    return Word(0, text, 0, len(text), None, None, 0.0, "non_speech")


def unplaced(text: str, status: WordStatus = "not_found") -> Word:
    return Word(0, text, 0, len(text), None, None, 0.0, status)


def lines_of(words: list[Word], **options: object) -> list[tuple[str, ...]]:
    return [cue.text_lines for cue in cues_for(words, CaptionOptions(**options))]  # type: ignore[arg-type]


def test_a_short_sentence_is_one_line() -> None:
    assert lines_of(spoken("Hello there, how are you?")) == [("Hello there, how are you?",)]


def test_sentences_end_cues_when_both_do_not_fit() -> None:
    text = "The harbour was quiet that morning. Nobody had expected the storm to pass so quickly."
    cues = lines_of(spoken(text))
    assert cues[0] == ("The harbour was quiet that morning.",)
    assert " ".join(cues[1]) == "Nobody had expected the storm to pass so quickly."


def test_abbreviations_do_not_end_sentences() -> None:
    words = spoken(
        "Call Dr. Ellis at the office on Elm St. before Jan. 15 and send the S.V.O. report. "
        "She will answer on Monday, she said."
    )
    for width in (20, 32, 42):
        for cue in lines_of(words, max_chars_per_line=width, max_lines=1):
            assert not cue[-1].endswith(("Dr.", "St.", "Jan.", "S.V.O.")), cue
    # A real sentence end still ends a line.
    assert any(line.endswith("report.") for cue in lines_of(words) for line in cue)


def test_no_line_ends_on_an_article_or_preposition() -> None:
    text = (
        "We walked along the edge of the old canal towards the station and waited for "
        "the last train of the night to take us back into the city"
    )
    for cue in lines_of(spoken(text)):
        for line in cue:
            assert line.split()[-1] not in {"the", "of", "to", "for", "into", "along", "and"}


def test_other_languages_break_without_the_english_list() -> None:
    text = "Cada mañana los barcos salen del pequeño puerto y van hacia el mar abierto, lejos."
    cues = cues_for(spoken(text), CaptionOptions(), language="es")
    assert " ".join(" ".join(c.text_lines) for c in cues) == text
    assert all(len(line) <= 42 for c in cues for line in c.text_lines)


def test_a_long_pause_starts_a_new_cue() -> None:
    words = spoken("so that was the plan") + renumbered(
        spoken("and then everything changed", start_s=3.0)
    )
    cues = lines_of(renumbered(words))
    assert cues == [("so that was the plan",), ("and then everything changed",)]


def test_two_lines_are_balanced() -> None:
    text = "the fishing boats leave the small harbour and head for the open sea"
    (cue,) = lines_of(spoken(text))
    first, second = cue
    assert abs(len(first) - len(second)) <= 16
    assert max(len(first), len(second)) <= 42


def test_limits_are_options() -> None:
    text = " ".join(["word"] * 40)
    cues = lines_of(spoken(text, step_s=0.15), max_chars_per_line=20, max_lines=1)
    assert all(len(c) == 1 and len(c[0]) <= 20 for c in cues)


def test_a_word_longer_than_a_line_gets_a_line_of_its_own() -> None:
    long_word = "Pneumonoultramicroscopicsilicovolcanoconiosis"
    cues = lines_of(spoken(f"it is called {long_word} apparently"), max_chars_per_line=20)
    assert (long_word,) in [tuple(line for line in c if line == long_word) for c in cues]
    assert all(len(line) <= 20 for c in cues for line in c if line != long_word)


def test_cues_are_timed_for_reading_and_never_overlap() -> None:
    words = spoken("Yes.", start_s=1.0) + spoken("No.", start_s=5.0)
    cues = cues_for(renumbered(words))
    assert cues[0].start == pytest.approx(1.0)
    assert cues[0].end - cues[0].start >= 1.0  # lengthened to the minimum duration
    for before, after in itertools.pairwise(cues):
        assert after.start - before.end >= 0.08 - 1e-9


def test_short_gaps_are_chained_and_keep_two_frames() -> None:
    first = spoken("This is the first sentence of the two we have here today.")
    second = spoken(
        "And this is the second one, which is a little longer than the first.",
        start_s=first[-1].end + 0.3,
    )  # type: ignore[operator]
    a, b = cues_for(renumbered(first + second))
    assert b.start - a.end == pytest.approx(0.08, abs=0.002)


def test_cue_ends_at_or_after_its_last_word_even_when_crowded() -> None:
    words = spoken("One. Two. Three. Four. Five. Six. Seven. Eight.", step_s=0.2)
    cues = cues_for(words, CaptionOptions(max_chars_per_line=6, max_lines=1))
    by_index = {w.index: w for w in words}
    for cue in cues:
        assert cue.end >= by_index[cue.words[-1].index].end - 1e-9  # type: ignore[operator]


def test_speaker_labels_become_voices_and_split_cues() -> None:
    words = renumbered(
        [
            markup("ANNA:"),
            *spoken("Did you see it?"),
            markup("BEN:"),
            *spoken("I did.", start_s=1.2),
        ]
    )
    cues = cues_for(words)
    assert [(c.speaker, c.text_lines) for c in cues] == [
        ("ANNA", ("Did you see it?",)),
        ("BEN", ("I did.",)),
    ]


def test_markup_and_unspoken_ends_are_not_shown_but_gaps_inside_are() -> None:
    header = [unplaced("Episode"), unplaced("42"), unplaced("show"), unplaced("notes")]
    body = spoken("we start here and", start_s=2.0)
    missing = [unplaced("somewhere"), unplaced("else")]
    tail = spoken("then end here.", start_s=5.0)
    words = renumbered([*header, markup("[Music]"), *body, *missing, *tail, unplaced("Credits")])
    shown = display_words(words)
    expected = ["we", "start", "here", "and", "somewhere", "else", "then", "end", "here."]
    assert [w.text for w in shown] == expected
    gap_start, gap_end = body[-1].end, tail[0].start
    for word in shown[4:6]:
        assert word.status == "not_found"
        assert gap_start <= word.start <= word.end <= gap_end  # type: ignore[operator]
    assert shown[4].end == pytest.approx(shown[5].start)


@pytest.mark.parametrize(
    "options",
    [
        {"max_chars_per_line": 2},
        {"max_lines": 0},
        {"min_duration_s": 8.0, "max_duration_s": 7.0},
        {"max_chars_per_s": 0.0},
        {"highlight": "syllables"},
    ],
)
def test_bad_options_say_what_is_wrong(options: dict[str, object]) -> None:
    with pytest.raises(InvalidOptionError):
        CaptionOptions(**options)  # type: ignore[arg-type]


def test_show_notes_labels_name_no_speaker() -> None:
    header = renumbered(
        [
            unplaced("Broadcast"),
            unplaced("on:"),
            unplaced("20"),
            unplaced("Sep"),
            markup("Audio Format:"),
            unplaced("MP3"),
            markup("Note:"),
            unplaced("edited"),
            markup("10:30"),
        ]
    )
    words = renumbered([*header, *spoken("Welcome back to the show. It is good to be here.")])
    cues = cues_for(words)
    assert cues and all(cue.speaker is None for cue in cues)


def test_a_label_heads_a_speaker_only_where_it_heads_spoken_words() -> None:
    words = renumbered(
        [
            markup("Transcript:"),
            unplaced("edited"),
            markup("ANNA:"),
            *spoken("Hello there."),
            markup("BEN:"),
            *spoken("Hi Anna.", start_s=1.0),
            markup("ANNA:"),
            *spoken("Shall we start?", start_s=2.5),
        ]
    )
    assert [c.speaker for c in cues_for(words)] == ["ANNA", "BEN", "ANNA"]


def test_words_missed_after_an_advert_lead_into_the_next_found_word() -> None:
    before = spoken("That was the news before the break.")
    missed = [unplaced(text) for text in ("and", "now", "each", "step", "Ivan", "took", "mattered")]
    after = spoken("on the long walk home.", start_s=before[-1].end + 45.0)  # type: ignore[operator]
    words = renumbered([*before, *missed, *after])
    shown = {w.text: w for w in display_words(words)}
    assert all(after[0].start - 3.0 <= shown[w.text].start for w in missed)  # type: ignore[operator]
    assert all(shown[w.text].end - shown[w.text].start <= 0.6 for w in missed)
    for cue in cues_for(words):
        assert cue.end - cue.start <= 7.0 + 1e-9
        assert cue.end <= before[-1].end + 7.0 or cue.start >= after[0].start - 3.0  # type: ignore[operator]


def test_a_sentence_cut_by_a_gap_is_finished_before_it() -> None:
    before = spoken("We walked down to the")
    missed = [unplaced("harbour."), unplaced("Then")]
    after = spoken("nothing happened.", start_s=30.0)
    shown = display_words(renumbered([*before, *missed, *after]))
    harbour, then = shown[5], shown[6]
    assert harbour.start == pytest.approx(before[-1].end)  # type: ignore[arg-type]
    assert then.end == pytest.approx(after[0].start)  # type: ignore[arg-type]


def test_a_sentence_with_no_time_to_be_said_is_not_flashed() -> None:
    # The audio lacks a sentence of the text, and the aligner missed the next sentence's first
    # word: 0.27 s between two found words for eleven unconfirmed ones (3 s to say).
    before = spoken("about the price of every crate.")
    never = "This sentence was never spoken in the recording at all."
    missed = [unplaced(text) for text in never.split()]
    after = spoken("is loud, it smells of salt.", start_s=before[-1].end + 0.27)  # type: ignore[operator]
    words = renumbered([*before, *missed, markup("BEN:"), unplaced("It"), *after])
    shown = display_words(words)
    assert [w.text for w in shown if w.status == "not_found"] == ["It"]
    it = next(w for w in shown if w.text == "It")
    assert before[-1].end <= it.start < it.end <= after[0].start  # type: ignore[operator]
    for cue in cues_for(words):
        assert cue.end - cue.start >= 1.0 - 1e-9, cue


def test_no_cue_is_longer_than_the_maximum_even_for_a_drawn_out_word() -> None:
    words = renumbered([*spoken("Sooo", step_s=9.0), *spoken("there.", start_s=9.5)])
    assert all(c.end - c.start <= 7.0 + 1e-9 for c in cues_for(words))
