"""What an uploaded file is before it joins a case: its name cleaned, its type read from its bytes
(never from the name or the browser's word), its digest."""

from __future__ import annotations

import hashlib
import posixpath
import re
import unicodedata
from dataclasses import dataclass

import puremagic

FALLBACK_NAME = "attachment"
MAX_NAME_LENGTH = 120  # characters, extension included: fits the column and every file system
UNKNOWN_TYPE = "application/octet-stream"
# What Windows refuses in a file name: a name must save as it reads on every reader's machine.
RESERVED = re.compile(r'[<>:"/\\|?*]')
SPACES = re.compile(r"\s+")
EXTENSION = re.compile(r"\.[A-Za-z0-9]{1,10}$")


@dataclass(frozen=True)
class Upload:
    """A file as a person sent it: the name their machine gave it and its bytes."""

    name: str
    content: bytes


def clean_name(raw: str | None, content_type: str = UNKNOWN_TYPE) -> str:
    """The file name without its folders, control or invisible characters (a right-to-left override
    can make `fdp.exe` read `exe.pdf`), characters a file system refuses, leading dots or blanks,
    bounded in length with its extension kept; `attachment.pdf` (the type's extension) when
    nothing is left."""
    name = unicodedata.normalize("NFC", str(raw or "")).replace("\\", "/")
    name = posixpath.basename(name)
    name = "".join(ch for ch in name if not unicodedata.category(ch).startswith("C"))
    name = SPACES.sub(" ", RESERVED.sub("_", name)).strip(" .")
    if not name.strip("_ "):
        return FALLBACK_NAME + _extension_of(content_type)
    if len(name) > MAX_NAME_LENGTH:
        found = EXTENSION.search(name)
        ext = found.group(0) if found else ""
        name = name[: MAX_NAME_LENGTH - len(ext)].rstrip(" .") + ext
    return name


def detect_type(content: bytes, name: str = "") -> str:
    """The media type the bytes show (puremagic reads their signature). The name only chooses among
    the types the content allows (a zip's signature is shared by .docx, .xlsx and .pptx); text
    without a signature is text/plain; anything else unknown is application/octet-stream."""
    try:
        matches = puremagic.magic_string(content, name or None)
    except (puremagic.PureError, ValueError):
        matches = []
    ext = name.rsplit(".", 1)[-1].lower() if "." in name else ""
    typed = [m for m in matches if m.mime_type and m.byte_match]  # a guess from the name alone is no evidence
    chosen = next((m for m in typed if m.extension.lstrip(".").lower() == ext), typed[0] if typed else None)
    if chosen is not None:
        return chosen.mime_type[:100]
    return "text/plain" if _is_text(content) else UNKNOWN_TYPE


def digest(content: bytes) -> str:
    return hashlib.sha256(content).hexdigest()


def _is_text(content: bytes) -> bool:
    try:
        text = content.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return all(ch in "\t\n\r" or unicodedata.category(ch) != "Cc" for ch in text)


def _extension_of(content_type: str) -> str:
    known = {
        "application/pdf": ".pdf",
        "image/png": ".png",
        "image/jpeg": ".jpg",
        "text/plain": ".txt",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": ".xlsx",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document": ".docx",
    }
    return known.get(content_type, "")
