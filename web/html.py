"""Small pieces of HTML, escaped: an element with attributes, text with its line breaks."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from markupsafe import Markup, escape


def tag(name: str, attrs: Mapping[str, Any], content: Any = None) -> Markup:
    """An element; attributes that are None or False are left out, True ones are bare."""
    parts = [
        Markup(" {}").format(key) if value is True else Markup(' {}="{}"').format(key, value)
        for key, value in attrs.items()
        if value is not None and value is not False
    ]
    head = Markup("<{}{}>").format(name, Markup("").join(parts))
    return head if content is None else head + escape(content) + Markup("</{}>").format(name)


def lines(text: str) -> Markup:
    return Markup("<br>").join(escape(line) for line in str(text).split("\n"))
