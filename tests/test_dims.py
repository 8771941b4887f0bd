"""Symbolic dimensions and formulas, with numbers worked out by hand from PyTorch's docs."""

from torchshape_lint.shapes import dims, formulas


def test_conv_and_pool_formulas_by_hand():
    assert formulas.conv(224, kernel=3, stride=1, padding=1, dilation=1) == 224
    assert formulas.conv(32, kernel=5, stride=1, padding=0, dilation=1) == 28
    assert formulas.conv(32, kernel=3, stride=2, padding=1, dilation=1) == 16
    assert formulas.conv(32, kernel=3, stride=1, padding=0, dilation=2) == 28
    assert formulas.pool(7, kernel=2, stride=2, padding=0, dilation=1, ceil_mode=False) == 3
    assert formulas.pool(7, kernel=2, stride=2, padding=0, dilation=1, ceil_mode=True) == 4
    # ceil_mode: the last window must start inside the input or its left padding
    assert formulas.pool(5, kernel=2, stride=2, padding=1, dilation=1, ceil_mode=True) == 3
    assert formulas.conv_transpose(16, kernel=4, stride=2, padding=1, dilation=1, output_padding=0) == 32


def pools(n):
    """n MaxPool2d(2, 2) after size-keeping convs, as a symbolic size."""
    dim = dims.symbol("H")
    for _ in range(n):
        dim = dims.apply_formula(dim, lambda s: formulas.pool(s, 2, 2, 0, 1, False), "MaxPool2d")
    return dim


def test_vgg_classifier_fits_some_input_and_7x6_fits_non_square_ones():
    h, w = pools(5), dims.multiply(1, dims.symbol("W"))
    w = pools(5).factors[0]
    flat = dims.Sym(512, (h.factors[0], dims.Factor("W", w.steps)))
    assert dims.can_equal(flat, 512 * 7 * 7) is True
    assert dims.can_equal(flat, 512 * 7 * 6) is True  # H != W is allowed
    assert dims.can_equal(flat, 1000) is False  # not a multiple of 512
    assert h.factors[0].sizes_giving(7) == range(224, 256)


def test_a_prime_beyond_reach():
    # 512 * h * w = 512 * 13 * 13 * 13 needs h * w = 2197 = 13^3: (13, 169) or (169, 13) — reachable
    flat = dims.Sym(512, (pools(5).factors[0], dims.Factor("W", pools(5).factors[0].steps)))
    assert dims.can_equal(flat, 512 * 2197) is True
    # with adaptive pools both factors are constants: the product is a plain int
    assert dims.multiply(512, 49) == 25088


def test_divide_removes_the_batch_symbol():
    n = dims.symbol("N")
    total = dims.multiply(n, 400)
    assert dims.divide(total, n) == 400
    assert dims.divide(total, 3) is dims.UNKNOWN


def test_fitting_sizes_name_the_inputs_that_work():
    # LeNet: floor((floor((H-4)/2) - 4)/2) = 5 needs floor((H-4)/2) in 14..15, so H-4 in 28..31: H in 32..35
    def lenet():
        dim = dims.symbol("H")
        for fn in (lambda s: formulas.conv(s, 5, 1, 0, 1), lambda s: formulas.pool(s, 2, 2, 0, 1, False)) * 2:
            dim = dims.apply_formula(dim, fn, "layer")
        return dim.factors[0]

    height, width = lenet(), dims.Factor("W", lenet().steps)
    assert [lenet().at(h) for h in (31, 32, 35, 36)] == [4, 5, 5, 6]
    text = dims.fitting_sizes(dims.Sym(16, (height, width)), 16 * 5 * 5)
    assert text.startswith("H in 32..35, W in 32..35")
