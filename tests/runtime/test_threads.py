"""The one thread setting: configure_threads for the process, thread_settings for a block."""
import pytest
import torch

from bootdrift_avalanche.runtime.threads import DEFAULT_THREADS, configure_threads, thread_settings


def test_configure_threads_defaults_to_one_on_cpu(monkeypatch):
    old = torch.get_num_threads()
    monkeypatch.delenv("OMP_NUM_THREADS", raising=False)
    try:
        torch.set_num_threads(2)
        assert configure_threads("cpu") == DEFAULT_THREADS == 1
        assert configure_threads("cpu", 2) == 2
        monkeypatch.setenv("OMP_NUM_THREADS", "2")
        assert configure_threads("cpu") == 2  # the user's OMP_NUM_THREADS wins over our default
    finally:
        torch.set_num_threads(old)


def test_thread_settings_restores_the_old_value():
    old = torch.get_num_threads()
    with thread_settings("cpu", threads=1):
        assert torch.get_num_threads() == 1
    assert torch.get_num_threads() == old


@pytest.mark.parametrize("bad", [0, -1, 1.5])
def test_bad_thread_counts_are_refused(bad):
    with pytest.raises(ValueError, match="threads must be a positive integer"):
        configure_threads("cpu", bad)
