from torchshape_lint.checks.rules import Rule
from torchshape_lint.shapes.tensor import show_shape


class LastBatchSize(Rule):
    """A `view`/`reshape` that hard-codes the batch size of the `DataLoader` feeding it, where the dataset's
    length is not a multiple of it: the last batch of every epoch is smaller (`drop_last=False`, the default)."""

    code = "TSL010"
    name = "last-batch-size"
    summary = "view/reshape hard-codes a batch size the loader's last batch does not have"
    why = ("MNIST's 60000 training digits in batches of 64 are 937 full batches and one of 32. `x.view(64, -1)` "
           "runs for 937 batches, then at the end of the epoch either fails (`shape '[64, 784]' is invalid for "
           "input of size 25088`) or, with a -1 after the batch, silently reshapes 32 samples into 64 of half the "
           "size, and the error shows in the loss or the next layer, far from its cause.")
    fix = ("Take the batch from the tensor: `x.view(x.size(0), -1)`, `torch.flatten(x, 1)`, or `x.view(-1, 784)`; "
           "or drop the smaller batch with `DataLoader(..., drop_last=True)`.")
    bad = '''
import torch
import torch.nn as nn
from torchvision import datasets, transforms

batch_size = 64
train_set = datasets.MNIST("data", train=True, transform=transforms.ToTensor())
loader = torch.utils.data.DataLoader(train_set, batch_size=batch_size, shuffle=True)
model = nn.Linear(28 * 28, 10)
for images, labels in loader:
    outputs = model(images.view(batch_size, -1))
'''
    good = bad.replace("images.view(batch_size, -1)", "images.view(images.size(0), -1)")

    def message(self, v) -> str:
        if v.rebatched is not None:
            outcome = f"the {v.op} silently re-batches it to {show_shape(v.rebatched)}"
        else:
            written = ", ".join(map(str, v.sizes))
            outcome = f"PyTorch raises: shape '[{written}]' is invalid for input of size {v.total}"
        return (f"{v.label} on the last batch: {v.dataset} has {v.length} = {v.full} × {v.declared} + "
                f"{v.arriving} samples, so the last batch holds {v.arriving}, not {v.declared}; {outcome}; take the "
                "batch from the tensor (x.size(0)) or pass drop_last=True")
