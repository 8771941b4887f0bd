"""`--confirm`: build each model with torch, run it on the static run's inputs and compare (driver.py plans the runs,
worker.py runs them in a separate process so that a crash or a hang of torch never reaches the host)."""


class ConfirmError(Exception):
    """Confirm mode cannot run at all (no torch, no CUDA for `--device cuda`): a usage error, exit 2."""
