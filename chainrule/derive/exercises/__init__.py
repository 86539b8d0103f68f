"""Exercise sheets with worked answer keys (``chainrule exercises``).

Each topic module generates an exercise with friendly numbers, derives its answers with the engine
of :mod:`chainrule.derive`, and verifies them by an independent route before anything is printed
(:mod:`.common`). :func:`.sheet.make_sheet` draws ``count`` exercises for a topic, seed and
difficulty; the renderers (:mod:`.render`) write the sheet and the key as LaTeX, Markdown, JSON or
Moodle XML.

This module holds only the limits and the topic names, so that the command line can describe its
options without importing SymPy; the registry itself is :data:`.sheet.TOPICS` (a test checks that
the names agree).
"""

from __future__ import annotations

MAX_COUNT = 100
MAX_SEED = 2**32 - 1
DIFFICULTIES = (1, 2, 3)
TOPIC_NAMES = ("chain-rule", "neuron", "graph", "backprop", "perceptron", "conv", "pooling",
               "params", "losses")
