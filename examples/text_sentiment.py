"""Sentiment of short made-up reviews: Embedding -> Bidirectional(LSTM) -> Dense, vs word counts.

The task (generated here, no download) has a clear right answer: a review of 12 words is
positive when its positive words ("good", "great", ...) outnumber its negative ones ("bad",
"dull", ...), where "not" flips the word after it ("not good" counts as negative). Filler words
("the", "movie", ...) carry nothing. Each word is an integer id; ``Embedding(input_dim, 16)`` maps
id k to row k of a learned [input_dim, 16] table, so a review becomes [B, 12, 16].

Two models on the same data:

- order-blind: ``GlobalAveragePooling1D`` averages the 12 word vectors, so "not good" and
  "good ... not" look the same to it: it cannot learn the negation rule;
- ``Bidirectional(LSTM(16))`` reads the review both ways (2 x 4 x (16*16 + 16*16 + 16) = 4,224
  weights) and sees which word follows "not".

Runtime: on a 2-core machine, ~5 s by default, ~3 s with --quick (6,000 / 4,000 training reviews,
10 epochs each model). Measured as CPU time with one BLAS thread.
Expected last line: ``test accuracy: 0.9940 (order-blind baseline 0.6430)`` with --seed 0; with
--quick 0.9790 (baseline 0.6490). The tests check that the LSTM reaches 0.90 with --quick and
beats the order-blind model on the reviews that contain "not" (0.958 vs 0.298).
"""

from __future__ import annotations

import argparse
import time
from typing import List, Tuple

import numpy as np

import tinygrad_edu as tg
from tinygrad_edu.layers import LSTM, Bidirectional, Dense, Embedding, GlobalAveragePooling1D
from tinygrad_edu.models import Sequential

POSITIVE = ["good", "great", "fun", "love", "superb", "nice"]
NEGATIVE = ["bad", "awful", "boring", "hate", "dull", "poor"]
FILLER = ["the", "movie", "plot", "was", "a", "and", "it", "i", "this", "film", "actors", "story"]
VOCABULARY = ["<pad>", "not", *POSITIVE, *NEGATIVE, *FILLER]  # id 0 reserved for padding
WORD_ID = {word: i for i, word in enumerate(VOCABULARY)}
LENGTH = 12


def score(words: List[str]) -> int:
    """+1 per positive word, -1 per negative one, the sign flipped right after "not"."""
    total = 0
    for i, word in enumerate(words):
        if word in POSITIVE or word in NEGATIVE:
            value = 1 if word in POSITIVE else -1
            total += -value if i > 0 and words[i - 1] == "not" else value
    return total


def review(rng: np.random.Generator) -> List[str]:
    """12 filler words, 1-3 of them replaced by opinion words, some preceded by "not"."""
    words = list(rng.choice(FILLER, size=LENGTH))
    for slot in rng.choice(np.arange(1, LENGTH), size=rng.integers(1, 4), replace=False):
        words[slot] = rng.choice(POSITIVE if rng.random() < 0.5 else NEGATIVE)
        if rng.random() < 0.35:
            words[slot - 1] = "not"
    return words


def make_reviews(n: int, rng: np.random.Generator) -> Tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(ids [n, 12], labels [n] 1 = positive, has_not [n]); ties (score 0) are drawn again."""
    ids, labels, negated = [], [], []
    while len(ids) < n:
        words = review(rng)
        if score(words) == 0:
            continue
        ids.append([WORD_ID[w] for w in words])
        labels.append(int(score(words) > 0))
        negated.append("not" in words)
    return np.array(ids), np.array(labels), np.array(negated)


def train(model: Sequential, data: tuple, epochs: int, seed: int) -> Sequential:
    (x, y), _ = data
    model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
    model.fit(x, y, batch_size=32, epochs=epochs, verbose=0, seed=seed)
    return model


def accuracy(model: Sequential, x: np.ndarray, y: np.ndarray) -> float:
    return float(np.mean((model.predict(x)[:, 0] > 0.5) == y))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="4,000 reviews, 10 epochs")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    n_train, epochs = (4000, 10) if args.quick else (6000, 10)

    tg.set_seed(args.seed)
    start = time.perf_counter()
    rng = np.random.default_rng(args.seed)
    x, y, _ = make_reviews(n_train, rng)
    x_test, y_test, negated = make_reviews(1000, rng)
    example = " ".join(VOCABULARY[i] for i in x[0])
    print(f"{n_train:,} training reviews like {example!r} -> {'positive' if y[0] else 'negative'}")
    data = ((x, y), (x_test, y_test))

    blind = Sequential(
        [
            Embedding(len(VOCABULARY), 16, input_shape=(LENGTH,)),
            GlobalAveragePooling1D(),
            Dense(1, activation="sigmoid"),
        ],
        name="order_blind",
    )
    lstm = Sequential(
        [
            Embedding(len(VOCABULARY), 16, input_shape=(LENGTH,)),
            Bidirectional(LSTM(16)),
            Dense(1, activation="sigmoid"),
        ],
        name="bidirectional_lstm",
    )
    lstm.summary(show_algebra=False)
    for model in (blind, lstm):
        train(model, data, epochs, args.seed)
    blind_acc, lstm_acc = accuracy(blind, x_test, y_test), accuracy(lstm, x_test, y_test)
    print(
        f"reviews with 'not' ({int(negated.sum())} of 1000): order-blind "
        f"{accuracy(blind, x_test[negated], y_test[negated]):.4f}, "
        f"bidirectional LSTM {accuracy(lstm, x_test[negated], y_test[negated]):.4f}"
    )
    print(f"total time {time.perf_counter() - start:.1f} s")
    print(f"test accuracy: {lstm_acc:.4f} (order-blind baseline {blind_acc:.4f})")


if __name__ == "__main__":
    main()
