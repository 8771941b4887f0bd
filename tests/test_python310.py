"""Python 3.10 is supported: tomllib is 3.11+, so pyproject.toml is read with tomli there (a dependency on 3.10 only).

The test environment is 3.11+; the command line runs here as on 3.10, where `import tomllib` fails and tomli, the
same parser, is installed."""

import configparser
import os
import subprocess
import sys

from conftest import FIXTURES, ROOT, locate

# What 3.10 looks like to the code: no tomllib; tomli installed (here: the same parser under its old name).
AS_ON_PYTHON_310 = ("import sys, tomllib; sys.modules['tomli'] = tomllib; sys.modules['tomllib'] = None; "
                    "from torchshape_lint.frontends.cli import main; sys.exit(main(sys.argv[1:]))")


def test_pyproject_is_read_without_tomllib(tmp_path):
    """VGG without its adaptive pool at the 32x32 input that pyproject.toml gives: five pools take 32 to 1."""
    (tmp_path / "pyproject.toml").write_text('[tool.torchshape-lint]\ninput-shape = "1,3,32,32"\n')
    (tmp_path / "vgg.py").write_text((FIXTURES / "vgg_no_avgpool.py").read_text())
    result = subprocess.run([sys.executable, "-c", AS_ON_PYTHON_310, "--no-cache", "--quiet", "vgg.py"], cwd=tmp_path,
                            capture_output=True, text=True, timeout=300, env={**os.environ, "PYTHONPATH": str(ROOT)})
    line, column = locate(tmp_path / "vgg.py", "nn.Linear(512 * 7 * 7")
    assert (result.returncode, result.stderr) == (1, "")
    assert result.stdout.startswith(f"vgg.py:{line}:{column}: TSL001 ") and "use 512 * 1 * 1" in result.stdout


def test_setup_cfg_claims_310_and_installs_tomli_there():
    config = configparser.ConfigParser()
    config.read(ROOT / "setup.cfg")
    assert config["options"]["python_requires"] == ">=3.10"
    assert 'tomli>=1.1; python_version < "3.11"' in config["options"]["install_requires"].splitlines()
