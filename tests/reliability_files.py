"""Hostile and awkward documents for the reliability tests, built on the fly (nothing committed).

Each builder writes a file that once froze the server or crashed ``docs add``:
a one-line megabyte of text, a DOCX of huge unpunctuated paragraphs, a PDF
whose FlateDecode stream inflates past pypdf's limit, a page with a huge
content stream, and AES-encrypted PDFs.
"""

from __future__ import annotations

import random
import zlib
from pathlib import Path

__all__ = ["aes_pdf", "flate_bomb_pdf", "huge_content_pdf", "one_line_text",
           "simple_pdf", "unpunctuated_docx"]


def one_line_text(path: Path, words: int = 142_857) -> Path:
    """The issue's reproduction: ``'widget ' * 142857`` (1 MB, one line, no full stop)."""
    path.write_text("widget " * words)
    return path


def unpunctuated_docx(path: Path, paragraphs: int = 40, words: int = 40_000) -> Path:
    """Paragraphs of random words with no sentence punctuation (compresses like prose)."""
    import docx

    rng = random.Random(7)
    vocab = ["".join(rng.choice("abcdefghijklmnopqrstuvwxyz") for _ in range(rng.randint(3, 9)))
             for _ in range(3000)]
    d = docx.Document()
    for _ in range(paragraphs):
        d.add_paragraph(" ".join(rng.choices(vocab, k=words)))
    d.save(str(path))
    return path


def _pdf(path: Path, content: bytes, filters: str = "") -> Path:
    """A one-page PDF whose page content stream is ``content`` (already encoded)."""
    objs = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        f"<< /Length {len(content)}{filters} >>\nstream\n".encode() + content
        + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for i, body in enumerate(objs, start=1):
        offsets.append(len(out))
        out += f"{i} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objs) + 1}\n0000000000 65535 f \n".encode()
    for off in offsets:
        out += f"{off:010d} 00000 n \n".encode()
    out += (f"trailer\n<< /Size {len(objs) + 1} /Root 1 0 R >>\nstartxref\n{xref}\n%%EOF\n"
            .encode())
    path.write_bytes(bytes(out))
    return path


def simple_pdf(path: Path, text: str = "Qwen models run on a laptop") -> Path:
    return _pdf(path, f"BT /F1 12 Tf 72 720 Td ({text}) Tj ET".encode())


def flate_bomb_pdf(path: Path, inflated: int = 200 * 1024 * 1024) -> Path:
    """A page whose FlateDecode content stream inflates to ``inflated`` bytes of spaces."""
    comp = zlib.compressobj(9)
    block = b" " * (1 << 20)
    parts = [comp.compress(block) for _ in range(inflated // len(block))]
    parts.append(comp.flush())
    return _pdf(path, b"".join(parts), " /Filter /FlateDecode")


def huge_content_pdf(path: Path, megabytes: int = 70) -> Path:
    """A page with a ``megabytes`` MB content stream of text operators (slow to extract)."""
    op = b"BT /F1 12 Tf 72 720 Td (widget gadget) Tj ET\n"
    return _pdf(path, op * (megabytes * 1024 * 1024 // len(op)))


def aes_pdf(path: Path, *, user_password: str, owner_password: str = "owner-secret",
            algorithm: str = "AES-256") -> Path:
    """A text PDF encrypted with AES; an empty ``user_password`` opens without one."""
    from pypdf import PdfReader, PdfWriter

    plain = simple_pdf(path.with_suffix(".plain.pdf"), "Encrypted but readable text")
    writer = PdfWriter(clone_from=PdfReader(str(plain)))
    writer.encrypt(user_password=user_password, owner_password=owner_password,
                   algorithm=algorithm)
    with path.open("wb") as f:
        writer.write(f)
    plain.unlink()
    return path
