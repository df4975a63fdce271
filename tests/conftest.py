"""Shared test setup."""

import pytest
import torch


@pytest.fixture(autouse=True, scope="session")
def one_torch_thread():
    """The tests' networks are tiny: a second thread gains nothing, and a 2-thread OpenMP pool stalls ~100x whenever
    another process holds a core (measured on the 2-core CI machine). Restored at the end of the session."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
