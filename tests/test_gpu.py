"""Confirm mode on CUDA (marked `gpu`; skipped without CUDA): the fixtures' findings and the VGG family."""

import time

import pytest

from conftest import FIXTURES, cli

torch = pytest.importorskip("torch")
pytestmark = [pytest.mark.gpu, pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")]

from torchshape_lint.checks.analyze import analyze_source  # noqa: E402
from torchshape_lint.checks.finding import Verdict  # noqa: E402
from torchshape_lint.confirm.driver import confirm_report  # noqa: E402


def test_default_device_is_cuda_and_the_finding_is_confirmed():
    result = cli("--confirm", "fixtures/lenet_mnist.py")
    assert result.returncode == 1 and result.stdout.rstrip().endswith("[confirmed on cuda]"), result.stdout


@pytest.mark.parametrize("name, shape, findings", [("vgg.py", (1, 3, 224, 224), 0),
                                                   ("vgg_no_avgpool.py", (1, 3, 32, 32), 1),
                                                   ("vgg_pool_removed.py", (1, 3, 224, 224), 1)])
def test_vgg_family_on_cuda(name, shape, findings):
    text = (FIXTURES / name).read_text()
    report = analyze_source(text, str(FIXTURES / name), input_shape=shape)
    started = time.perf_counter()
    results = confirm_report(report, text, "cuda", timeout=300, input_shape=shape)
    print(f"{name}: {time.perf_counter() - started:.2f} s;", "; ".join(r.line() for r in results))
    assert len(report.findings) == findings and all(f.verdicts == [Verdict("confirmed", "cuda")]
                                                 for f in report.findings)
    assert all(r.agreeing == r.compared > 0 and not r.failure for r in results), [r.line() for r in results]
