"""Text corpora of the language-model bootstrapping loop: paragraphs with a topic label, split into
train and test.

A :class:`TopicCorpus` is plain text: ``topics`` (the label names) and, for each split, a list of
``(topic, paragraph)`` pairs. Loaders:

- :func:`pydoc_corpus` (the embedded default): the English documentation that ships inside every
  CPython install, ``pydoc_data.topics.topics`` (79 topics, ~465 KB); the topic is the label.
- :func:`text_file_corpus`: one plain UTF-8 text file (one topic, named after the file).
- :func:`text_dir_corpus`: a folder of ``*.txt`` files, one topic per file (sorted by name).
- :func:`wikitext_corpus`: WikiText-2/-103's raw layout (``wiki.train.raw``, ``wiki.valid.raw``,
  ``wiki.test.raw`` in one folder); one topic. Its own train and test files are the splits
  (``wiki.valid.raw`` must be there too, as in every copy, but is not read: nothing is tuned here).

**The split** (pydoc, text files): paragraphs are the blocks between blank lines. Within each topic,
in document order, paragraph ``i`` (from 0) is held out for testing when ``i % 5 == 2``, so about
a fifth of every topic is test text, and every topic with at least 3 paragraphs (all 79 pydoc
topics) is in both splits. The rule is fixed (no seed): every run scores against the same text.

Missing files raise :class:`~bootdrift_avalanche.benchmarks.errors.MissingDataError` (what, where
it was looked for, how to supply it).
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import List, Sequence, Tuple, Union

from ..benchmarks.errors import MissingDataError, missing_paths

__all__ = ["TopicCorpus", "paragraphs", "split_by_paragraph", "pydoc_corpus", "text_file_corpus",
           "text_dir_corpus", "wikitext_corpus", "HELD_OUT_EVERY", "HELD_OUT_INDEX", "WIKITEXT_FILES"]

#: Paragraph i of a topic is test text when ``i % HELD_OUT_EVERY == HELD_OUT_INDEX``.
HELD_OUT_EVERY, HELD_OUT_INDEX = 5, 2
WIKITEXT_FILES = ("wiki.train.raw", "wiki.valid.raw", "wiki.test.raw")

Pairs = List[Tuple[int, str]]


@dataclass(frozen=True)
class TopicCorpus:
    """Paragraphs with topic labels: ``train``/``test`` hold ``(topic index, paragraph)`` pairs."""

    name: str
    topics: Tuple[str, ...]
    train: Pairs
    test: Pairs

    def __post_init__(self) -> None:
        for split in ("train", "test"):
            if not getattr(self, split):
                raise ValueError(f"corpus {self.name!r} has no {split} text")


def paragraphs(text: str) -> List[str]:
    """The non-empty blocks of ``text`` between blank lines, stripped."""
    return [p.strip() for p in re.split(r"\n\s*\n", text) if p.strip()]


def split_by_paragraph(texts: Sequence[str]) -> Tuple[Pairs, Pairs]:
    """Train and test ``(topic, paragraph)`` pairs of ``texts[topic]`` by the module's fixed rule."""
    train, test = [], []
    for topic, text in enumerate(texts):
        for i, p in enumerate(paragraphs(text)):
            (test if i % HELD_OUT_EVERY == HELD_OUT_INDEX else train).append((topic, p))
    return train, test


def pydoc_corpus() -> TopicCorpus:
    """The embedded default: CPython's ``pydoc_data.topics``, one topic per entry (sorted by name)."""
    from pydoc_data.topics import topics

    names = tuple(sorted(topics))
    train, test = split_by_paragraph([topics[n] for n in names])
    return TopicCorpus("pydoc", names, train, test)


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise ValueError(f"{path} is not UTF-8 text ({exc}); convert it, e.g. iconv -t UTF-8") from None


def text_file_corpus(path: Union[str, Path]) -> TopicCorpus:
    """One plain text file: one topic, split by paragraph."""
    path = Path(path).expanduser()
    if not path.is_file():
        raise MissingDataError("text file", path.parent, [path.name],
                               "give an existing UTF-8 text file (--text-file), paragraphs separated by blank lines")
    train, test = split_by_paragraph([_read(path)])
    return TopicCorpus(path.name, (path.stem,), train, test)


def text_dir_corpus(path: Union[str, Path]) -> TopicCorpus:
    """A folder of ``*.txt`` files: one topic per file (sorted by file name), each split by paragraph."""
    path = Path(path).expanduser()
    files = sorted(path.glob("*.txt")) if path.is_dir() else []
    if not files:
        raise MissingDataError("text folder", path, ["*.txt"],
                               "give a folder (--text-dir) holding one UTF-8 .txt file per topic")
    train, test = split_by_paragraph([_read(f) for f in files])
    return TopicCorpus(path.name, tuple(f.stem for f in files), train, test)


def wikitext_corpus(root: Union[str, Path]) -> TopicCorpus:
    """WikiText-2/-103 raw (``wiki.train.raw``, ``wiki.valid.raw``, ``wiki.test.raw`` under
    ``root``): one topic; the train file is the training text, the test file the held-out text."""
    root = Path(root).expanduser()
    missing = missing_paths(root, WIKITEXT_FILES)
    if missing:
        raise MissingDataError("WikiText raw", root, missing,
                               "unpack wikitext-2-raw-v1.zip or wikitext-103-raw-v1.zip and pass the folder with "
                               "the wiki.*.raw files as --data-root")
    # WikiText's raw files put one paragraph per line, headings as " = Title = " lines.
    def pairs(name):
        return [(0, line.strip()) for line in _read(root / name).splitlines()
                if line.strip() and not line.strip().startswith("=")]

    return TopicCorpus(root.name, ("wikitext",), pairs("wiki.train.raw"), pairs("wiki.test.raw"))
