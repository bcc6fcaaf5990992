"""Fixtures for engine tests: the small test diagrams under tests/engine/diagrams."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.modeling import publishing

HERE = Path(__file__).resolve().parent
DIAGRAMS = HERE / "diagrams"
FORMS = str(HERE / "forms")


def diagram(name: str, **replacements: str) -> dict[str, bytes]:
    """A test diagram as a publishable file set, optionally with text replaced."""
    text = (DIAGRAMS / name).read_text(encoding="utf-8")
    for old, new in replacements.items():
        assert old in text, f"{old!r} not in {name}"
        text = text.replace(old, new)
    return {name: text.encode("utf-8")}


def publish(world, files: dict[str, bytes]):
    return publishing.publish(world.uow(), files, forms_dir=FORMS)


@pytest.fixture
def funding_review(world):
    """The three-lane funding review, published as version 1."""
    [published] = publish(world, diagram("funding_review.bpmn"))
    return published
