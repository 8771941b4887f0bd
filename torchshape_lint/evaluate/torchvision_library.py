"""What the evaluator knows of the data a model is fed: torchvision's datasets as constructed, the transforms that
size their images, `TensorDataset`, `random_split`, and `DataLoader`'s batches — the full one and the smaller last one.

Each dataset's facts (how many samples each split holds, the size and colour of its images) are in one table,
`DATASETS`, read from torchvision 0.29's dataset classes and their documentation. Anything not in it (another
dataset, a transform not followed, a sampler or collate function of the user's) makes the data unknown.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from typing import Any

from torchshape_lint.evaluate.python_library import int_like
from torchshape_lint.evaluate.values import LastBatch, ListV, Sourced, Stream, readable
from torchshape_lint.shapes import dims
from torchshape_lint.shapes.tensor import Tensor, concrete_input
from torchshape_lint.shapes.violations import LastBatchSize
from torchshape_lint.unknown import UNKNOWN


@dataclass(frozen=True)
class DatasetFacts:
    channels: int  # of the PIL image a sample holds: 1 for mode "L", 3 for "RGB"
    size: tuple | None  # (height, width); None where the files decide (ImageFolder)
    lengths: dict  # the values of the `split` arguments, as a tuple → samples; {} where the files decide
    parameters: tuple  # the constructor's, in order
    split: tuple = ("train",)  # the arguments that choose the split
    defaults: tuple = (True,)  # their defaults (None: the argument is required)
    custom: tuple = ()  # arguments that, given, make the samples the user's (ImageFolder's loader)
    subsets: tuple = ()  # arguments that, given, choose a part of the split (STL10's folds): the length is unknown


MNIST_PARAMETERS = ("root", "train", "transform", "target_transform", "download")
SPLIT_PARAMETERS = ("root", "split", "transform", "target_transform", "download")
MNIST_LIKE = DatasetFacts(1, (28, 28), {(True,): 60000, (False,): 10000}, MNIST_PARAMETERS)
CIFAR = DatasetFacts(3, (32, 32), {(True,): 50000, (False,): 10000}, MNIST_PARAMETERS)
# EMNIST's splits, from the EMNIST paper (Cohen et al., 2017): (split, train) → samples
EMNIST_LENGTHS = {
    ("byclass", True): 697932, ("byclass", False): 116323, ("bymerge", True): 697932, ("bymerge", False): 116323,
    ("balanced", True): 112800, ("balanced", False): 18800, ("letters", True): 124800, ("letters", False): 20800,
    ("digits", True): 240000, ("digits", False): 40000, ("mnist", True): 60000, ("mnist", False): 10000,
}
DATASETS = {
    "MNIST": MNIST_LIKE,
    "FashionMNIST": MNIST_LIKE,
    "KMNIST": MNIST_LIKE,
    "EMNIST": DatasetFacts(1, (28, 28), EMNIST_LENGTHS, ("root", "split"), ("split", "train"), (None, True)),
    "CIFAR10": CIFAR,
    "CIFAR100": CIFAR,
    "SVHN": DatasetFacts(3, (32, 32), {("train",): 73257, ("test",): 26032, ("extra",): 531131}, SPLIT_PARAMETERS,
                         ("split",), ("train",)),
    "STL10": DatasetFacts(3, (96, 96), {("train",): 5000, ("test",): 8000, ("unlabeled",): 100000,
                                        ("train+unlabeled",): 105000},
                          ("root", "split", "folds", "transform", "target_transform", "download"), ("split",),
                          ("train",), subsets=("folds",)),
    # its default loader converts every image to RGB; one of the user's decides for itself
    "ImageFolder": DatasetFacts(3, None, {}, ("root", "transform", "target_transform", "loader", "is_valid_file"),
                                (), (), custom=("loader",)),
}


@dataclass(frozen=True)
class Picture:
    """A sample's image as the transforms see it: its channels and size (UNKNOWN where not known), and whether it is
    a tensor yet (ToTensor) or still a PIL image."""

    channels: Any
    height: Any
    width: Any
    tensor: bool = False


@dataclass(eq=False)
class Transform:
    """A torchvision transform as constructed: its class name and arguments."""

    name: str
    args: tuple
    kwargs: dict


@dataclass(frozen=True)
class Label:
    """An int class label in a sample: default_collate makes a tensor of the batch of them."""


LABEL = Label()


@dataclass(eq=False)
class Dataset(Stream):
    """A dataset: the kind of sample it yields, as Python code sees it (a label is some int), how default_collate
    batches each part of it (`parts`: a per-sample Tensor, LABEL or UNKNOWN), and how many samples there are."""

    parts: tuple = ()
    name: str = ""
    length: Any = UNKNOWN


def dataset(parts: tuple, name: str, length: Any) -> Dataset:
    return Dataset((tuple(UNKNOWN if part is LABEL else part for part in parts),), parts, name, length)


# ---- transforms --------------------------------------------------------------------------------------------


def _pair(size: Any) -> Any:
    """A size argument as (height, width): an int is a square; a sequence of one is a square too."""
    size = readable(size)
    if int_like(size) and size > 0:
        return size, size
    if isinstance(size, (tuple, ListV)) and len(size) in (1, 2) and all(int_like(s) and s > 0 for s in size):
        return (size[0], size[-1])
    return UNKNOWN


def _argument(transform: Transform, index: int, name: str, default: Any) -> Any:
    if len(transform.args) > index:
        return transform.args[index]
    return transform.kwargs.get(name, default)


def _resized(picture: Picture, transform: Transform) -> Any:
    """Resize(size): (h, w) exactly; an int matches the shorter edge, the longer one scaled as torchvision's
    `_compute_resized_output_size` does."""
    size = readable(_argument(transform, 0, "size", UNKNOWN))
    if _argument(transform, 2, "max_size", None) is not None:
        return UNKNOWN
    if isinstance(size, (tuple, ListV)) and len(size) == 2:
        pair = _pair(size)
        return UNKNOWN if pair is UNKNOWN else replace(picture, height=pair[0], width=pair[1])
    requested = size[0] if isinstance(size, (tuple, ListV)) and len(size) == 1 else size
    if not (int_like(requested) and requested > 0):
        return UNKNOWN
    h, w = picture.height, picture.width
    if not (int_like(h) and int_like(w)):  # the files' own sizes: a crop after it may still fix the size
        return picture
    short, long = (w, h) if w <= h else (h, w)
    new_short, new_long = requested, int(requested * long / short)
    new_w, new_h = (new_short, new_long) if w <= h else (new_long, new_short)
    return replace(picture, height=new_h, width=new_w)


def _cropped(picture: Picture, transform: Transform) -> Any:
    """CenterCrop pads a smaller image up to its size; RandomCrop raises on one (unless pad_if_needed), after its
    own padding: its output is known where the padded image is known to be at least the size."""
    pair = _pair(_argument(transform, 0, "size", UNKNOWN))
    if pair is UNKNOWN:
        return UNKNOWN
    if transform.name == "RandomCrop" and _argument(transform, 3, "pad_if_needed", False) is not True:
        padding = readable(_argument(transform, 1, "padding", None))
        pad = 0 if padding is None else padding if int_like(padding) else UNKNOWN
        if pad is UNKNOWN or not all(int_like(d) and d + 2 * pad >= s for d, s in
                                     zip((picture.height, picture.width), pair)):
            return UNKNOWN
    return replace(picture, height=pair[0], width=pair[1])


def _grayscale(picture: Picture, transform: Transform) -> Any:
    channels = _argument(transform, 0, "num_output_channels", 1)
    return replace(picture, channels=channels) if channels in (1, 3) else UNKNOWN


def _to_tensor(picture: Picture, transform: Transform) -> Any:
    return UNKNOWN if picture.tensor else replace(picture, tensor=True)  # a tensor is not a PIL image: it raises


def _on_tensor(picture: Picture, transform: Transform) -> Any:
    return picture if picture.tensor else UNKNOWN  # Normalize on a PIL image raises


def _same(picture: Picture, transform: Transform) -> Any:
    return picture


def _resized_crop(picture: Picture, transform: Transform) -> Any:
    pair = _pair(_argument(transform, 0, "size", UNKNOWN))
    return UNKNOWN if pair is UNKNOWN else replace(picture, height=pair[0], width=pair[1])


TRANSFORMS = {
    "ToTensor": _to_tensor, "PILToTensor": _to_tensor, "Resize": _resized, "CenterCrop": _cropped,
    "RandomCrop": _cropped, "RandomResizedCrop": _resized_crop, "Grayscale": _grayscale, "Normalize": _on_tensor,
    "ConvertImageDtype": _on_tensor, "RandomHorizontalFlip": _same, "RandomVerticalFlip": _same,
}


def transformed(picture: Picture, transform: Any) -> Any:
    """The picture after a transform (a Compose of them, None for none); UNKNOWN where one is not followed."""
    transform = readable(transform)
    if transform is None:
        return picture
    if isinstance(transform, Transform) and transform.name == "Compose":
        steps = readable(_argument(transform, 0, "transforms", UNKNOWN))
        if not isinstance(steps, (ListV, tuple)):
            return UNKNOWN
        for step in steps:
            picture = transformed(picture, step)
            if picture is UNKNOWN:
                return UNKNOWN
        return picture
    if isinstance(transform, Transform) and transform.name in TRANSFORMS:
        return TRANSFORMS[transform.name](picture, transform)
    return UNKNOWN


def _transform(name: str):
    def make(interp, args, kwargs, where):
        return Transform(name, tuple(args), dict(kwargs))

    return make


# ---- datasets --------------------------------------------------------------------------------------------


def _dataset(name: str):
    facts = DATASETS[name]

    def make(interp, args, kwargs, where):
        if len(args) > len(facts.parameters):
            return UNKNOWN
        bound = {**dict(zip(facts.parameters, args)), **kwargs}
        if any(bound.get(argument) is not None for argument in facts.custom):
            return UNKNOWN
        image = transformed(Picture(facts.channels, *(facts.size or (UNKNOWN, UNKNOWN))), bound.get("transform"))
        if image is not UNKNOWN and (not image.tensor or not all(
                int_like(d) for d in (image.channels, image.height, image.width))):
            image = UNKNOWN  # a PIL image (DataLoader cannot batch it), or a size not known
        parts = (concrete_input((image.channels, image.height, image.width), "usage") if image is not UNKNOWN
                 else UNKNOWN, LABEL if bound.get("target_transform") is None else UNKNOWN)
        split, length = _split_and_length(name, facts, bound)
        return dataset(parts, f"{name}({split})" if split else name, length)

    return make


def _split_and_length(name: str, facts: DatasetFacts, bound: dict) -> tuple:
    """(the split as the finding names it, e.g. `train=True`, and its number of samples or UNKNOWN)."""
    chosen = tuple(bound.get(argument, default) for argument, default in zip(facts.split, facts.defaults))
    if not all(isinstance(value, (str, bool)) for value in chosen):
        return "", UNKNOWN
    shown = ", ".join(f"{argument}={value!r}" for argument, value in zip(facts.split, chosen))
    if any(bound.get(other) is not None for other in facts.subsets):
        return shown, UNKNOWN
    return shown, facts.lengths.get(chosen, UNKNOWN)


def _tensor_dataset(interp, args, kwargs, where):
    """TensorDataset(x, y): samples along the first dimension, which every tensor must share."""
    tensors = [readable(a) for a in args]
    if kwargs or not tensors or not all(isinstance(t, Tensor) and t.shape and not t.pending for t in tensors):
        return UNKNOWN
    lengths = {t.shape[0] for t in tensors}
    length = lengths.pop() if len(lengths) == 1 else UNKNOWN
    if not int_like(length):
        return UNKNOWN  # torch raises "Size mismatch between tensors", or the length is symbolic
    return dataset(tuple(concrete_input(tuple(t.shape[1:]), "usage") for t in tensors), "TensorDataset", length)


def _random_split(interp, args, kwargs, where):
    """random_split(dataset, [55000, 5000]) or fractions ([0.9, 0.1]), which torch turns into lengths: each floored,
    the remainder added one by one from the first."""
    data = readable(args[0]) if args else UNKNOWN
    lengths = readable(args[1] if len(args) > 1 else kwargs.get("lengths", UNKNOWN))
    if not isinstance(data, Dataset) or not int_like(data.length) or not isinstance(lengths, (tuple, ListV)) or \
            not lengths or not all(isinstance(n, (int, float)) and not isinstance(n, bool) for n in lengths):
        return UNKNOWN
    if math.isclose(sum(lengths), 1) and sum(lengths) <= 1:
        if any(not 0 <= fraction <= 1 for fraction in lengths):
            return UNKNOWN
        sizes = [math.floor(data.length * fraction) for fraction in lengths]
        for i in range(data.length - sum(sizes)):
            sizes[i % len(sizes)] += 1
    else:
        sizes = list(lengths)
    if sum(sizes) != data.length or not all(int_like(n) and n >= 0 for n in sizes):
        return UNKNOWN  # torch raises: the lengths do not add up to the dataset's
    return tuple(Dataset(data.kinds, data.parts, f"random_split({data.name})[{i}]", n) for i, n in enumerate(sizes))


LOADER_PARAMETERS = ("dataset", "batch_size", "shuffle", "sampler", "batch_sampler", "num_workers", "collate_fn",
                     "pin_memory", "drop_last")


def _data_loader(interp, args, kwargs, where):
    """DataLoader(dataset, batch_size=1, ..., drop_last=False): the kinds of batch it yields, the full one and a
    smaller last one where the length is not a multiple of the batch size. A sampler, batch sampler or collate
    function of the user's decides what a batch is: unknown."""
    if len(args) > len(LOADER_PARAMETERS):
        return UNKNOWN
    bound = {**dict(zip(LOADER_PARAMETERS, args)), **kwargs}
    data = readable(bound.get("dataset", UNKNOWN))
    batch_size, drop_last = bound.get("batch_size", 1), bound.get("drop_last", False)
    if not isinstance(data, Dataset) or any(
            bound.get(k) is not None for k in ("sampler", "batch_sampler", "collate_fn")) or \
            not (int_like(batch_size) and batch_size > 0) or not isinstance(drop_last, bool):
        return UNKNOWN
    length = data.length
    if not int_like(length):  # the files decide how many: only what one batch holds per sample is known
        return Stream((batch(data.parts, UNKNOWN),))
    full, rest = divmod(length, batch_size)
    sizes = [batch_size] if full else []
    if rest and not drop_last:
        sizes.append(Sourced(rest, (LastBatch(data.name, length, batch_size),)))
    return Stream(tuple(batch(data.parts, size) for size in sizes))


def batch(parts: tuple, size: Any) -> ListV:
    """What default_collate makes of `size` samples: each tensor with the batch in front, each int label a tensor of
    the batch (a tuple of them becomes a list, as torch's collate returns)."""
    items = []
    for item in parts:
        if item is LABEL:
            items.append(concrete_input((size,), "usage"))
        elif isinstance(item, Tensor):
            items.append(concrete_input((size,) + tuple(item.shape), "usage"))
        else:
            items.append(UNKNOWN)
    return ListV(items)


def last_batch_violation(x: Tensor, sizes: list, label: str, where: Any) -> LastBatchSize | None:
    """`x.view(64, -1)` on the last batch of a loader whose batch size is 64: that batch is smaller, so the view
    fails, or silently moves values between samples (the violation says which, as PyTorch would)."""
    if x.shape is None or not x.shape or not sizes:
        return None
    first = x.shape[0]
    last = next((s for s in getattr(first, "sources", ()) if isinstance(s, LastBatch)), None)
    if last is None or not all(int_like(s) for s in sizes) or sizes[0] != last.batch_size:
        return None
    total = dims.product(x.shape)
    rest = [s for s in sizes[1:] if s != -1]
    if not isinstance(total, int):
        return None
    written = sizes[0] * dims.product(rest) if rest else sizes[0]
    shape = None
    if -1 in sizes[1:] and sizes.count(-1) == 1 and total % written == 0:
        shape = tuple(total // written if s == -1 else s for s in sizes)
    elif -1 not in sizes and total == written:
        shape = tuple(sizes)
    return LastBatchSize(where, f"{label}({', '.join(map(str, sizes))})", x, last.batch_size, int(first), op=label,
                         sizes=tuple(sizes), dataset=last.dataset, length=last.length,
                         full=last.length // last.batch_size, total=total, rebatched=shape)


TORCHVISION_EXTERNALS = {
    **{f"torchvision.datasets.{name}": _dataset(name) for name in DATASETS},
    **{f"torchvision.transforms.{name}": _transform(name) for name in (*TRANSFORMS, "Compose")},
    "torch.utils.data.TensorDataset": _tensor_dataset,
    "torch.utils.data.random_split": _random_split,
    "torch.utils.data.DataLoader": _data_loader,
}
