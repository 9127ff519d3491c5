"""Fixtures several unit-test folders share."""
import pytest

from pruning import DataConfig, load_dataset


@pytest.fixture(scope="session")
def digits_200():
    """Digits with 200 training examples (seed 0): small enough for many quick trainings.
    Read-only: a test that needs to change it makes its own copy."""
    return load_dataset(DataConfig(name="digits", train_size=200, seed=0))
