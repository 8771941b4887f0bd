"""A pragma's shape of rank 3 or less may be a batch as written, `(N, C, L)`, or one sample with its batch left out,
`(C, H, W)`. Where the first op to read the input reads any rank (a Flatten, an activation, a view), the analysis runs
both readings (checks/models.py): it reports what is wrong under both, or under the one that an op which reads a known
rank leaves (a `permute(2, 0, 1)`, an LSTM, as the first layer to read a rank does); where the readings disagree it
stays silent. Expected numbers come from torch, and each finding is checked against torch under both readings."""

import json
import textwrap

import pytest

from conftest import cli, lint, locate

torch = pytest.importorskip("torch")
nn = torch.nn

WRITTEN = (3, 8, 10)
AS_BATCH = torch.zeros(WRITTEN)
AS_SAMPLE = torch.zeros((2,) + WRITTEN)  # one sample of a batch (here of 2)

SOURCE = textwrap.dedent('''\
    import torch
    import torch.nn as nn

    # torchshape: input=(3, 8, 10)
    wrong_either_way = nn.Sequential(
        nn.ReLU(),
        nn.Flatten(),
        nn.Linear(81, 10),
    )

    # torchshape: input=(3, 8, 10)
    right_as_a_batch = nn.Sequential(nn.Flatten(), nn.Linear(80, 10))

    # torchshape: input=(3, 8, 10)
    right_as_a_sample = nn.Sequential(nn.Flatten(), nn.Linear(240, 10))

    # torchshape: input=(3, 8, 10)
    right_for_one_batch_size = nn.Sequential(nn.Flatten(), nn.Conv1d(240, 4, 3))


    # torchshape: input=(3, 8, 10)
    class Tagger(nn.Module):
        def __init__(self):
            super().__init__()
            self.lstm = nn.LSTM(3, 16)

        def forward(self, x):
            x = x.relu()
            s = x.permute(2, 0, 1)
            out, _ = self.lstm(s)
            return out
    ''')

MODELS = {  # the Sequentials of SOURCE, in torch
    "wrong_either_way": lambda: nn.Sequential(nn.ReLU(), nn.Flatten(), nn.Linear(81, 10)),
    "right_as_a_batch": lambda: nn.Sequential(nn.Flatten(), nn.Linear(80, 10)),
    "right_as_a_sample": lambda: nn.Sequential(nn.Flatten(), nn.Linear(240, 10)),
    "right_for_one_batch_size": lambda: nn.Sequential(nn.Flatten(), nn.Conv1d(240, 4, 3)),
}


def tagger(x):
    return nn.LSTM(3, 16)(x.relu().permute(2, 0, 1))


def fails(run, x):
    try:
        run(x)
    except RuntimeError:
        return True
    return False


def test_torch_fails_under_both_readings_only_where_a_finding_is_expected():
    assert fails(MODELS["wrong_either_way"](), AS_BATCH) and fails(MODELS["wrong_either_way"](), AS_SAMPLE)
    assert not fails(MODELS["right_as_a_batch"](), AS_BATCH) and fails(MODELS["right_as_a_batch"](), AS_SAMPLE)
    assert fails(MODELS["right_as_a_sample"](), AS_BATCH) and not fails(MODELS["right_as_a_sample"](), AS_SAMPLE)
    # as one sample, the Flatten gives (N, 240), which a Conv1d reads as unbatched: it runs where N is 240
    assert fails(MODELS["right_for_one_batch_size"](), AS_BATCH)
    assert not fails(MODELS["right_for_one_batch_size"](), torch.zeros((240,) + WRITTEN))
    # the permute reads rank 3 only: one sample (N, 3, 8, 10) fails there, the batch as written at the LSTM
    with pytest.raises(RuntimeError, match=r"input.dim\(\) = 4 is not equal to len\(dims\) = 3"):
        tagger(AS_SAMPLE)
    with pytest.raises(RuntimeError, match="input.size\\(-1\\) must be equal to input_size"):
        tagger(AS_BATCH)


@pytest.mark.parametrize("front", ["cli", "flake8"])
def test_reported_where_every_reading_fails_and_silent_where_they_disagree(tmp_path, front):
    path = tmp_path / "readings.py"
    path.write_text(SOURCE)
    result = lint(front, str(path))
    linear, lstm, permute = locate(path, "nn.Linear(81"), locate(path, "nn.LSTM("), locate(path, ".permute(")
    as_batch, as_sample = nn.Flatten()(AS_BATCH).shape[1], nn.Flatten()(AS_SAMPLE).shape[1]
    permuted = AS_BATCH.relu().permute(2, 0, 1).shape
    assert result.stdout.splitlines() == [
        f"{path}:{linear[0]}:{linear[1]}: TSL001 Linear(in_features=81) but {as_batch} features arrive: input "
        f"(3, 8, 10); flattened 8*10 = {as_batch} (either reading of input=(3, 8, 10) fails here: a batch as "
        f"written, and one sample (N, 3, 8, 10), with {as_sample} in place of {as_batch})",
        f"{path}:{lstm[0]}:{lstm[1]}: TSL002 LSTM(input_size=3) but {permuted[-1]} arrive (input (3, 8, 10); "
        f"permute {tuple(permuted)}) (input=(3, 8, 10) read as a batch, as written: line {permute[0]} cannot read "
        "the rank of one sample (N, 3, 8, 10))",
    ], result.stdout + result.stderr


def test_no_number_is_suggested_where_none_is_right_under_both_readings(tmp_path):
    path = tmp_path / "readings.py"
    path.write_text(SOURCE)
    assert "nn.Linear" not in lint("cli", "--diff", str(path)).stdout
    path.write_text(SOURCE.replace("input=(3, 8, 10)\nwrong", "input=(2, 3, 8, 10)\nwrong"))  # a batch: one reading
    assert nn.Flatten()(AS_SAMPLE).shape[1] == 3 * 8 * 10
    assert "+    nn.Linear(3 * 8 * 10, 10)," in lint("cli", "--diff", str(path)).stdout


def test_explain_shows_each_readings_run(tmp_path):
    """explain shows the run of each reading in place of the undecided one: every step's shape is torch's under that
    reading, each finding marks the step in the runs it holds under, and a reading that an op refuses stops there."""
    path = tmp_path / "readings.py"
    path.write_text(SOURCE)
    result = cli("explain", "readings.py::wrong_either_way", "--format", "json", cwd=tmp_path)
    batch, sample = json.loads(result.stdout)
    assert (batch["reading"], batch["input"], sample["reading"], sample["input"]) == (
        "batch", list(WRITTEN), "sample", ["N", *WRITTEN])
    linear = locate(path, "nn.Linear(81")
    for shown, x in ((batch, AS_BATCH), (sample, AS_SAMPLE)):
        expected = [list(nn.ReLU()(x).shape), list(nn.Flatten()(nn.ReLU()(x)).shape)]
        if x is AS_SAMPLE:  # its batch is any N (torch's here is 2)
            expected = [["N", *shape[1:]] for shape in expected]
        assert [step["output"] for step in shown["steps"][:2]] == expected
        assert [(f["code"], f["line"], f["column"]) for f in shown["steps"][2]["findings"]] == [("TSL001", *linear)]
    text = cli("explain", "readings.py::Tagger", cwd=tmp_path).stdout
    permute, lstm = locate(path, ".permute("), locate(path, "nn.LSTM(")
    tables = text.split("\n\n")
    assert tables[0].startswith("readings.py::Tagger: input (3, 8, 10) from its `# torchshape: input=` pragma, read "
                                "as a batch, as written")
    assert "^ breaks here: TSL002 LSTM(input_size=3)" in tables[0] and f"\n  {lstm[0]}  LSTM " in tables[0]
    assert tables[1].startswith("readings.py::Tagger: input (N, 3, 8, 10) from its `# torchshape: input=` pragma, "
                                "read as one sample with the batch left out")
    assert "breaks here" not in tables[1] and "also at" not in tables[1]  # the finding holds as a batch only
    assert f"stops here: line {permute[0]} cannot read the rank of this reading" in tables[1]
