"""The examples in docstrings run as written (doctest)."""
import doctest

import pytest

from bootdrift_avalanche.metrics import fid, suite

MODULES = [suite, fid]


@pytest.mark.parametrize("module", MODULES, ids=lambda m: m.__name__)
def test_docstring_examples_run(module):
    result = doctest.testmod(module, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0, f"{module.__name__} has no docstring example"
    assert result.failed == 0
