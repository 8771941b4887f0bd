"""The data a model is fed: torchvision's datasets through their transforms, TensorDataset, DataLoader's batches
and the smaller last one. Every shape is checked against torchvision and torch themselves (images made with PIL,
no dataset downloaded)."""

import inspect

import pytest

from torchshape_lint.checks.analyze import analyze_source
from torchshape_lint.evaluate.interpreter import Interpreter
from torchshape_lint.evaluate.torchvision_library import DATASETS
from torchshape_lint.shapes.tensor import Tensor
from torchshape_lint.source.reader import SourceFile
from torchshape_lint.unknown import UNKNOWN

torch = pytest.importorskip("torch")
torchvision = pytest.importorskip("torchvision")
Image = pytest.importorskip("PIL.Image")
from torchvision import transforms  # noqa: E402


def module_globals(text):
    interp = Interpreter(SourceFile(text, "m.py"))
    interp.run_module()
    return interp.globals.vars


def static_batch(dataset_call, batch_size=4):
    """The images of the first batch, as the evaluator sees them: a shape, or None where they are not known."""
    found = module_globals(f"""import torch
from torchvision import datasets, transforms
dataset = datasets.{dataset_call}
loader = torch.utils.data.DataLoader(dataset, batch_size={batch_size})
images, labels = next(iter(loader))
""")
    images = found["images"]
    return tuple(images.shape) if isinstance(images, Tensor) else None


def torch_batch(mode, size, transform, batch_size=4):
    """What torchvision makes of `batch_size` images of that PIL mode and (height, width); None where it raises or
    DataLoader cannot batch what comes out."""
    image = Image.new(mode, (size[1], size[0]))
    made = eval(transform, {"transforms": transforms, "torch": torch}) if transform != "None" else None
    try:
        sample = made(image) if made is not None else image
        batch = torch.utils.data.default_collate([sample] * batch_size)
    except (TypeError, ValueError):
        return None
    return tuple(batch.shape)


TRANSFORMS = [
    "None",
    "transforms.ToTensor()",
    "transforms.PILToTensor()",
    "transforms.Compose([transforms.ToTensor(), transforms.Normalize((0.1307,), (0.3081,))])",
    "transforms.Compose([transforms.Resize(32), transforms.ToTensor()])",
    "transforms.Compose([transforms.Resize((64, 48)), transforms.ToTensor()])",
    "transforms.Compose([transforms.Resize([20]), transforms.CenterCrop(16), transforms.ToTensor()])",
    "transforms.Compose([transforms.RandomCrop(32, padding=4), transforms.RandomHorizontalFlip(), "
    "transforms.ToTensor()])",
    "transforms.Compose([transforms.RandomCrop(40), transforms.ToTensor()])",
    "transforms.Compose([transforms.RandomCrop(40, pad_if_needed=True), transforms.ToTensor()])",
    "transforms.Compose([transforms.RandomResizedCrop(24), transforms.RandomVerticalFlip(), transforms.ToTensor()])",
    "transforms.Compose([transforms.Grayscale(num_output_channels=3), transforms.ToTensor()])",
    "transforms.Compose([transforms.Grayscale(), transforms.ToTensor()])",
    "transforms.Compose([transforms.CenterCrop((20, 30)), transforms.ToTensor()])",
    "transforms.Normalize((0.5,), (0.5,))",
    "transforms.Compose([transforms.ToTensor(), transforms.ToTensor()])",
    "transforms.Compose([transforms.Lambda(lambda x: x), transforms.ToTensor()])",
    "transforms.Compose([transforms.ToTensor(), transforms.ConvertImageDtype(torch.float)])",
]
IMAGES = {"MNIST": ("L", (28, 28)), "CIFAR10": ("RGB", (32, 32)), "SVHN": ("RGB", (32, 32)),
          "STL10": ("RGB", (96, 96))}


@pytest.mark.parametrize("transform", TRANSFORMS)
@pytest.mark.parametrize("name", sorted(IMAGES))
def test_dataset_images_as_torchvision_transforms_them(name, transform):
    mode, size = IMAGES[name]
    expected = torch_batch(mode, size, transform)
    found = static_batch(f"{name}('data', transform={transform})")
    if "Lambda" in transform:
        assert found is None  # not followed: unknown, never a guess
    else:
        assert found == expected


@pytest.mark.parametrize("transform", TRANSFORMS)
def test_image_folder_is_known_only_where_the_transform_fixes_the_size(transform):
    """ImageFolder's images have the files' sizes: a known sample must be what torchvision makes of any of them (and
    how many the first batch holds depends on how many files there are)."""
    found = static_batch(f"ImageFolder('data/train', transform={transform})")
    if found is not None:
        assert found[0] is UNKNOWN
        assert (4,) + found[1:] == torch_batch("RGB", (50, 40), transform) == torch_batch("RGB", (37, 61), transform)


@pytest.mark.parametrize("name", sorted(DATASETS))
def test_dataset_parameters_are_torchvisions(name):
    parameters = list(inspect.signature(getattr(torchvision.datasets, name).__init__).parameters)[1:]
    assert parameters[:len(DATASETS[name].parameters)] == list(DATASETS[name].parameters)


def test_split_names_are_torchvisions():
    """Every split torchvision accepts has its length in the table (the numbers are its documentation's)."""
    assert {split for (split,) in DATASETS["SVHN"].lengths} == set(torchvision.datasets.SVHN.split_list)
    assert {split for (split,) in DATASETS["STL10"].lengths} == set(torchvision.datasets.STL10.splits)
    assert {(split, train) for split in torchvision.datasets.EMNIST.splits for train in (True, False)} == set(
        DATASETS["EMNIST"].lengths)


def test_dataset_names_say_the_split():
    found = module_globals("from torchvision import datasets\na = datasets.EMNIST('d', split='digits')\n"
                           "b = datasets.SVHN('d', split='test')\nc = datasets.STL10('d', folds=2)\n")
    assert (found["a"].name, found["a"].length) == ("EMNIST(split='digits', train=True)", 240000)
    assert (found["b"].name, found["b"].length) == ("SVHN(split='test')", 26032)
    assert found["c"].length is UNKNOWN  # a fold of the training split


@pytest.mark.parametrize("length, batch_size, drop_last", [
    (1000, 64, False), (1000, 100, False), (1000, 64, True), (10, 64, False), (10, 64, True), (64, 64, False)])
def test_loader_batches_as_torch_batches(length, batch_size, drop_last):
    loader = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(torch.zeros(length, 5), torch.zeros(length)),
                                         batch_size=batch_size, drop_last=drop_last)
    expected = [(tuple(x.shape), tuple(y.shape)) for x, y in loader]
    kinds = list(dict.fromkeys(expected))  # the full batch, then the last one where it differs
    found = module_globals(f"""import torch
from torch.utils.data import DataLoader, TensorDataset
loader = DataLoader(TensorDataset(torch.randn({length}, 5), torch.zeros({length})), batch_size={batch_size},
                    drop_last={drop_last})
""")["loader"]
    assert [(tuple(x.shape), tuple(y.shape)) for x, y in found.kinds] == kinds


LOOP = """import torch
import torch.nn as nn
from torchvision import datasets, transforms

train_set = datasets.MNIST("data", train=True, transform=transforms.ToTensor())
loader = torch.utils.data.DataLoader(train_set, batch_size=64, shuffle=True)
model = nn.Linear(28 * 28, 10)
for images, labels in loader:
    outputs = model(images.view(64, -1))
"""


def torch_last_batch(length, batch_size):
    *_, (last,) = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(torch.empty(length, 0)),
                                              batch_size=batch_size)
    return last.shape[0]


def test_a_hard_coded_batch_re_batches_the_last_one():
    last = torch_last_batch(60000, 64)
    assert torch.zeros(last, 1, 28, 28).view(64, -1).shape == (64, 392)  # silently: no error in torch
    [finding] = analyze_source(LOOP, "train.py").findings
    assert (finding.code, finding.line, finding.column) == ("TSL010", 9, 20)
    assert finding.message == (
        f"view(64, -1) on the last batch: MNIST(train=True) has 60000 = {60000 // 64} × 64 + {last} samples, so the "
        f"last batch holds {last}, not 64; the view silently re-batches it to (64, 392); take the batch from the "
        "tensor (x.size(0)) or pass drop_last=True")


def test_a_hard_coded_batch_fails_on_the_last_one_as_torch_says():
    last = torch_last_batch(10000, 64)
    with pytest.raises(RuntimeError) as raised:
        torch.zeros(last, 1, 28, 28).view(64, 784)
    text = LOOP.replace("train=True", "train=False").replace("view(64, -1)", "view(64, 784)")
    [finding] = analyze_source(text, "test.py").findings
    assert finding.code == "TSL010" and f"PyTorch raises: {raised.value}" in finding.message


@pytest.mark.parametrize("change", [
    ("view(64, -1)", "view(images.size(0), -1)"),
    ("view(64, -1)", "view(-1, 28 * 28)"),
    ("shuffle=True", "shuffle=True, drop_last=True"),
    ("batch_size=64", "batch_size=100", "view(64, -1)", "view(100, -1)"),  # 60000 = 600 × 100
    ("    outputs = model(images.view(64, -1))", "    outputs = model(images.view(64, -1))\n    break"),
    ("for images, labels in loader:", "for i, (images, labels) in enumerate(loader):\n    if i == 10:\n        break"),
    ("transform=transforms.ToTensor()", "transform=transforms.Compose([transforms.Lambda(lambda x: x)])"),
    ("loader = torch.utils.data.DataLoader(train_set, batch_size=64, shuffle=True)",
     "loader = torch.utils.data.DataLoader(train_set, batch_size=64, sampler=sampler)"),
])
def test_no_last_batch_finding_where_the_last_batch_is_whole_or_never_reached(change):
    text = LOOP
    for old, new in zip(change[::2], change[1::2]):
        text = text.replace(old, new)
    assert analyze_source(text, "train.py").findings == []


@pytest.mark.parametrize("lengths", ["[55000, 5000]", "[0.9, 0.1]", "[0.333, 0.333, 0.334]", "[50000, 5000]"])
def test_random_split_lengths_as_torch_splits(lengths):
    try:
        expected = [len(part) for part in torch.utils.data.random_split(range(60000), eval(lengths))]
    except ValueError:  # the lengths do not add up
        expected = None
    found = module_globals(f"""import torch
from torchvision import datasets, transforms
parts = torch.utils.data.random_split(datasets.MNIST("data", transform=transforms.ToTensor()), {lengths})
""")["parts"]
    assert (found is UNKNOWN and expected is None) or [part.length for part in found] == expected


def test_tensor_dataset_and_next_iter_feed_the_model():
    text = """import torch
import torch.nn as nn
from torch.utils.data import DataLoader, TensorDataset

dataset = TensorDataset(torch.randn(500, 20), torch.randint(0, 2, (500,)))
loader = DataLoader(dataset, batch_size=32)
model = nn.Sequential(nn.Linear(24, 16), nn.ReLU(), nn.Linear(16, 2))
x, y = next(iter(loader))
model(x)
"""
    with pytest.raises(RuntimeError, match="32x20 and 24x16"):
        torch.nn.Sequential(torch.nn.Linear(24, 16))(next(iter(torch.utils.data.DataLoader(
            torch.utils.data.TensorDataset(torch.randn(500, 20)), batch_size=32)))[0])
    [finding] = analyze_source(text, "m.py").findings
    assert (finding.code, finding.line) == ("TSL001", 7) and "but 20 features arrive: input (32, 20)" in finding.message


def test_an_unknown_loader_stays_silent():
    assert static_batch("MNIST('data', transform=transforms.ToTensor(), target_transform=None)") == (4, 1, 28, 28)
    assert module_globals("import torch\nloader = torch.utils.data.DataLoader(make_dataset(), batch_size=4)\n"
                          "x, y = next(iter(loader))\n")["x"] is UNKNOWN


def test_epochs_around_the_loop_run_its_batches_once():
    """Every epoch's pass over the loader is alike: 5000 epochs cost no more than one (the step budget would stop
    the file long before 5000 passes through the model and its last batch)."""
    text = LOOP.replace("for images, labels in loader:\n    outputs", "for epoch in range(5000):\n"
                        "    for images, labels in loader:\n        outputs")
    report = analyze_source(text, "train.py")
    assert [f.code for f in report.findings] == ["TSL010"] and report.layers_checked == 1


def test_verbose_says_why_a_loaders_loop_ends_what_is_known(tmp_path):
    """Past a loop over a loader its names are unknown because it runs an unknown number of times — not because
    what it loops over is unknown: the body was checked on each kind of batch (the finding here is from it)."""
    import subprocess
    import sys

    (tmp_path / "train.py").write_text("""import torch
import torch.nn as nn
from torch.utils.data import DataLoader, TensorDataset

loader = DataLoader(TensorDataset(torch.randn(100, 20)), batch_size=32)
model = nn.Linear(24, 2)
for (x,) in loader:
    out = model(x)
""")
    result = subprocess.run([sys.executable, "-m", "torchshape_lint.frontends.cli", "--no-cache", "--verbose", "train.py"],
                            cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert "train.py:6:9: TSL001 Linear(in_features=24) but 20 features arrive" in result.stdout
    assert "train.py:7: <module> stops here: out, x not known past the `for` loop at line 7: a loader's loop runs an " \
           "unknown number of times (its body was checked on each kind of batch)" in result.stdout, result.stdout


def test_code_after_a_loop_that_runs_to_its_end_sees_the_last_batch():
    """The tutorials save a picture of the last batch after the loop: `images.reshape(images.size(0), 1, 28, 28)`.
    100 samples in batches of 32 end on a batch of 4: a reshape after the loop that does not fit it is reported
    there, as torch raises there; one inside a loop that may break early leaves the names unknown."""
    text = """import torch
from torch.utils.data import DataLoader, TensorDataset

loader = DataLoader(TensorDataset(torch.randn(100, 784)), batch_size=32)
for (images,) in loader:
    flat = images.view(images.size(0), -1)
pictures = images.reshape(images.size(0), 1, 28, 29)
"""
    with pytest.raises(RuntimeError, match=r"shape '\[4, 1, 28, 29\]' is invalid for input of size 3136"):
        namespace: dict = {}
        exec(text, namespace)
    [finding] = analyze_source(text, "m.py").findings
    # by hand: the last batch is 100 - 3 * 32 = 4 samples, 4 * 784 = 3136 values; the shape holds 4 * 28 * 29 = 3248
    assert (finding.code, finding.line) == ("TSL005", 7)
    assert finding.message == "reshape(4, 1, 28, 29) on (4, 784): the shape holds 3248 values, but 3136 arrive"
    early = text.replace("    flat = images", "    if images.sum() > 0:\n        break\n    flat = images")
    assert analyze_source(early, "m.py").findings == []
