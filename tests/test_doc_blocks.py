"""The code in README.md and docs/*.md runs as written: every block fenced as ``python`` runs offline,
the blocks of one page in order in one fresh interpreter (like one script), in an empty directory
with its own $HOME. Every fence names its language, and the README stays a short front page."""
import os
import subprocess
import sys
from pathlib import Path
from typing import List, Tuple

import pytest

ROOT = Path(__file__).resolve().parents[1]
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]


def fenced_blocks(text: str) -> List[Tuple[str, str]]:
    """``(language, code)`` of every fenced block, in order."""
    out, lang, lines = [], None, []
    for line in text.splitlines():
        if lang is None and line.startswith("```"):
            lang, lines = line[3:].strip(), []
        elif lang is not None and line.strip() == "```":
            out.append((lang, "\n".join(lines) + "\n"))
            lang = None
        elif lang is not None:
            lines.append(line)
    assert lang is None, "a fence is not closed"
    return out


def _python(page: Path) -> str:
    return "\n\n".join(code for lang, code in fenced_blocks(page.read_text()) if lang == "python")


def test_the_readme_is_a_short_front_page():
    assert len((ROOT / "README.md").read_bytes()) < 8 * 1024
    assert _python(ROOT / "README.md")  # the lines a user came for, runnable


@pytest.mark.parametrize("page", PAGES, ids=[p.name for p in PAGES])
def test_every_fence_names_its_language(page):
    assert all(lang for lang, _ in fenced_blocks(page.read_text())), f"{page.name}: a fence without a language"


def test_the_block_reader_splits_fences():
    text = "x\n```python\na = 1\n```\n```bash\nls\n```\n"
    assert fenced_blocks(text) == [("python", "a = 1\n"), ("bash", "ls\n")]


PYTHON_PAGES = [p for p in PAGES if _python(p)]


@pytest.mark.slow
@pytest.mark.parametrize("page", PYTHON_PAGES, ids=[p.name for p in PYTHON_PAGES])
def test_python_blocks_run_as_written(page, tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ("BOOTDRIFT_CACHE", "XDG_CACHE_HOME")}
    env.update(HOME=str(tmp_path), PYTHONPATH=str(ROOT), MPLBACKEND="Agg", TQDM_DISABLE="1", OMP_NUM_THREADS="1")
    run = subprocess.run([sys.executable, "-c", _python(page)], cwd=tmp_path, env=env, capture_output=True,
                         text=True, timeout=900)
    assert run.returncode == 0, f"{page.name}:\n{run.stderr[-4000:]}"
