"""Engine options are checked before any model loads."""

from __future__ import annotations

import pytest

from alignment import AlignmentOptions
from alignment.engine import MAX_BATCH_SIZE, check_options
from alignment.errors import InvalidOptionError


@pytest.mark.parametrize("batch_size", [0, 1, 8, MAX_BATCH_SIZE])
def test_batch_sizes_within_the_bound_are_accepted(batch_size: int) -> None:
    check_options(AlignmentOptions(batch_size=batch_size))


@pytest.mark.parametrize("batch_size", [-1, MAX_BATCH_SIZE + 1, 1000])
def test_batch_sizes_out_of_bounds_are_invalid_option(batch_size: int) -> None:
    with pytest.raises(InvalidOptionError) as info:
        check_options(AlignmentOptions(batch_size=batch_size))
    assert info.value.code == "invalid_option"
    assert str(MAX_BATCH_SIZE) in info.value.message and str(batch_size) in info.value.message
