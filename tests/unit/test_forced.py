"""The encoder output crosses into numpy whatever compute type produced it."""

from __future__ import annotations

import ctranslate2
import numpy as np

from alignment.forced import encoder_array


def test_bfloat16_encoder_output_becomes_float32() -> None:
    # Values a bfloat16 holds exactly (8 significant bits), so the round trip is exact.
    values = np.array([[[0.5, -1.25, 3.0], [1024.0, 0.0078125, -2.0]]], dtype=np.float32)
    storage = ctranslate2.StorageView.from_array(values).to(ctranslate2.DataType.bfloat16)
    array = encoder_array(storage)
    assert array.dtype == np.float32 and array.shape == values.shape
    np.testing.assert_array_equal(array, values)


def test_other_encoder_outputs_keep_their_type() -> None:
    values = np.linspace(-1.0, 1.0, 12, dtype=np.float32).reshape(1, 4, 3)
    half = ctranslate2.StorageView.from_array(values).to(ctranslate2.DataType.float16)
    assert encoder_array(half).dtype == np.float16
    np.testing.assert_array_equal(encoder_array(ctranslate2.StorageView.from_array(values)), values)
