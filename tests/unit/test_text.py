"""Transcript decoding and tokenisation: encodings, spans, markup, numbers."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st

from alignment.errors import TranscriptEmptyError, TranscriptEncodingError
from alignment.text import decode_transcript, normalize, speaker_name, tokenize

TEXT = "Hello, wörld — it's $5,000 (8%) on 9/11."


@pytest.mark.parametrize(
    "data",
    [
        TEXT.encode("utf-8"),
        b"\xef\xbb\xbf" + TEXT.encode("utf-8"),
        b"\xff\xfe" + TEXT.encode("utf-16-le"),
        b"\xfe\xff" + TEXT.encode("utf-16-be"),
    ],
    ids=["utf8", "utf8-bom", "utf16le-bom", "utf16be-bom"],
)
def test_decodes_supported_encodings(data: bytes) -> None:
    assert decode_transcript(data) == TEXT


def test_rejects_latin1_with_a_clear_message() -> None:
    with pytest.raises(TranscriptEncodingError) as info:
        decode_transcript("Café crème".encode("latin-1"))
    assert info.value.code == "transcript_encoding"
    assert "UTF-8" in info.value.message


def test_rejects_utf16_without_bom() -> None:
    with pytest.raises(TranscriptEncodingError):
        decode_transcript(TEXT.encode("utf-16-le"))


def test_rejects_binary_data() -> None:
    with pytest.raises(TranscriptEncodingError):
        decode_transcript(bytes(range(256)) * 4)


@pytest.mark.parametrize("data", [b"", b"   \n\t ", "♪ ... —".encode()])
def test_rejects_transcripts_without_words(data: bytes) -> None:
    with pytest.raises(TranscriptEmptyError) as info:
        decode_transcript(data)
    assert info.value.code == "transcript_empty"


def test_spans_point_into_the_original_text() -> None:
    text = "ANNA: Well,  it cost $5,000\n[ Silence ]\n(laughs) U.S. 24-year-old, 8% and 9/11!"
    for token in tokenize(text):
        assert text[token.char_start : token.char_end].strip() == token.text


def test_numbers_and_symbols_stay_single_words() -> None:
    words = [t.text for t in tokenize("In 2023 it cost $5,000, 1,250 U.S. 24-year 8% 9/11.")]
    assert words == [
        "In",
        "2023",
        "it",
        "cost",
        "$5,000,",
        "1,250",
        "U.S.",
        "24-year",
        "8%",
        "9/11.",
    ]


@pytest.mark.parametrize(
    ("text", "markup"),
    [
        ("Hi [ Silence ] there", "[ Silence ]"),
        ("Hi [BLANK_AUDIO] there", "[BLANK_AUDIO]"),
        ("Hi (laughs) there", "(laughs)"),
        ("Hi (LAUGHTER) there", "(LAUGHTER)"),
        ("Hi ♪ there", "♪"),
        ("ANNA: hi there", "ANNA:"),
        ("Dr. Smith: hi there", "Dr. Smith:"),
        (">> BOB: hi there", ">> BOB:"),
        ("[00:01:02] hi there", "[00:01:02]"),
        ("00:01:02.500 hi there", "00:01:02.500"),
        ("hi 01:02:03 there", "01:02:03"),
    ],
)
def test_markup_is_non_speech(text: str, markup: str) -> None:
    tokens = tokenize(text)
    assert [t.text for t in tokens if t.kind == "markup"] == [markup]
    assert [t.text for t in tokens if t.kind == "speech"] == ["hi", "there"] or [
        t.text for t in tokens if t.kind == "speech"
    ] == ["Hi", "there"]


def test_spoken_parentheticals_and_clock_times_stay_speech() -> None:
    tokens = tokenize("We met (which was odd) at 9:30 today.")
    assert all(t.kind == "speech" for t in tokens)
    assert [t.text for t in tokens][:3] == ["We", "met", "(which"]


def test_punctuation_only_tokens_join_a_neighbouring_word() -> None:
    assert [t.text for t in tokenize("yes — no - maybe ...")] == ["yes —", "no -", "maybe ..."]
    # A symbol that markup parts from both neighbours is left out (found by hypothesis).
    assert [t.text for t in tokenize(":[]0")] == ["[]", "0"]
    tokens = tokenize("— and\n& so [Music] … on")
    assert [t.text for t in tokens if t.kind == "speech"] == ["— and", "& so", "… on"]


def test_normalize_folds_case_accents_and_punctuation() -> None:
    assert normalize("Wörld,") == normalize("world") == "world"
    assert normalize("$5,000") == "5000"


@given(st.text(max_size=300))
def test_tokens_are_ordered_disjoint_spans(text: str) -> None:
    tokens = tokenize(text)
    for before, after in itertools.pairwise(tokens):
        assert before.char_end <= after.char_start
    for token in tokens:
        assert 0 <= token.char_start < token.char_end <= len(text)


@pytest.mark.parametrize(
    ("label", "name"),
    [
        ("ANNA:", "ANNA"),
        ("Dr. Smith:", "Dr. Smith"),
        (">> BOB:", "BOB"),
        (">>", ""),
        ("Speaker 2:", "Speaker 2"),
        ("Audio Format:", None),
        ("Note:", None),
        ("Broadcast:", None),
        ("10:30", None),
        ("12:", None),
    ],
)
def test_speaker_name_reads_only_name_like_labels(label: str, name: str | None) -> None:
    assert speaker_name(label) == name


def test_show_notes_headings_are_text_not_speaker_labels() -> None:
    tokens = tokenize("Audio Format: MP3\nNote: edited\nANNA: hi there")
    assert [t.text for t in tokens if t.kind == "markup"] == ["ANNA:"]
    assert [t.text for t in tokens if t.kind == "speech"][:2] == ["Audio", "Format:"]


def test_a_bracketed_partial_word_inside_a_sentence_is_spoken() -> None:
    """Forced-alignment corpora bracket cut-off words ("saying [adif] bunch"): they are said,
    so they are words; sound events and editorial marks in brackets stay markup."""
    kinds = {t.text: t.kind for t in tokenize("i'm also saying [adif] bunch of words")}
    assert kinds["[adif]"] == "speech"
    for text in (
        "hello [laughter] there",
        "we [inaudible] went",
        "then [sic] he",
        "[adif] at the start of a line",
        "at the end [adif]",
        "two [half words] here",
        "an [Editor] note",
    ):
        bracketed = [t for t in tokenize(text) if t.text.startswith("[")]
        assert bracketed and all(t.kind == "markup" for t in bracketed), text
