"""Small helpers shared across skbo: thread limiting, randomness, tensor shapes."""

from __future__ import annotations
