"""The bootstrapping loop for language models (the seed paper's open question 2).

One concern per module, in the order data flows: ``corpus`` (paragraphs with topic labels: the
embedded pydoc corpus, text files, WikiText raw) -> ``tokens`` (word vocabulary, fixed-length
chunks: the loop's samples) -> ``ngram`` / ``gpt2`` (generators) -> ``encoder`` (fixed features),
``stats``, ``topic_accuracy`` -> ``suite`` (every per-stage value, logged like the image metrics);
``tail_theory`` (the categorical closed form's TailSurvival). The loop itself is
``bootstrap.loop.run_bootstrap``; ``bootdrift bootstrap --data pydoc --generator ngram`` runs it in a
run directory (``experiments.registry``: ``TEXT_CORPORA``, ``DRIFT_SUITES``, ``GENERATORS``).
"""
