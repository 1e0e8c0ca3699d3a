"""Shape rules of the convolution family agree with their kernels (see tests/shape_rules.py): the 3-d transposed
convolution, and the padding the padding layers call (3-d modes, crops)."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from nnspec.runtime import functional as F

from shape_rules import SETTINGS, agree, covers, size


@SETTINGS
@given(st.data())
def test_conv_transpose3d(data):
    groups = data.draw(st.sampled_from([1, 2, 3]))
    cin, cout = groups * data.draw(size), groups * data.draw(st.integers(1, 3))
    x = (data.draw(st.integers(1, 2)), cin + data.draw(st.sampled_from([0, 0, 0, 1])),
         *[data.draw(st.integers(1, 4)) for _ in range(3)])
    if data.draw(st.booleans()):
        x = x[1:]  # unbatched
    k = tuple(data.draw(st.integers(1, 3)) for _ in range(3))
    stride = tuple(data.draw(st.integers(1, 3)) for _ in range(3))
    padding = data.draw(st.sampled_from([0, 1, 2, (0, 1, 2)]))
    output_padding = data.draw(st.sampled_from([0, 1, (1, 0, 2)]))
    dilation = data.draw(st.sampled_from([1, 2, (1, 2, 1)]))
    wgroups = data.draw(st.sampled_from([groups, groups, groups + 1]))  # the weight not split by the groups: refused
    bias = data.draw(st.booleans())
    dtype = data.draw(st.sampled_from(["float32", "float64"]))
    agree(lambda x, w, b: F.conv_transpose3d(x, w, b, stride, padding, output_padding, wgroups, dilation),
          (x, dtype), ((cin, cout // groups, *k), dtype), ((cout,), dtype) if bias else None)


covers(F.conv_transpose3d)


@SETTINGS
@given(st.data())
def test_pad_of_the_padding_layers(data):
    nd = data.draw(st.integers(1, 3))
    x = tuple(data.draw(st.integers(1, 5)) for _ in range(nd + data.draw(st.integers(0, 2))))
    mode = data.draw(st.sampled_from(["constant", "reflect", "replicate", "circular"]))
    low = -3 if mode == "constant" else 0  # crops: a zero or constant pad's
    pads = tuple(data.draw(st.integers(low, 5)) for _ in range(2 * nd))
    agree(lambda x: F.pad(x, pads, mode, 2.5 if mode == "constant" else None), x)


covers(F.pad)
