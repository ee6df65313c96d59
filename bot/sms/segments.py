"""How many SMS segments a text costs: GSM-7 (160 / 153) or UCS-2 (70 / 67), counted exactly.

One character outside the GSM 03.38 alphabet switches the whole message to UCS-2. In GSM-7 the
extension-table characters (``^{}\\[~]|€`` and form feed) take two septets (an escape and the
character), and a concatenated message never splits such a pair between two parts; in UCS-2 a
character outside the Basic Multilingual Plane takes two 16-bit units, never split either. So
the parts are packed character by character, as the handset and Twilio do, not just divided.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

# GSM 03.38 default alphabet (the escape at 0x1B is not a character of its own).
GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_EXTENSION = frozenset("\f^{}\\[~]|€")

GSM7_SINGLE = 160
GSM7_PART = 153
UCS2_SINGLE = 70
UCS2_PART = 67

# Punctuation that makes an otherwise plain message UCS-2, with the GSM-7 text Twilio's Smart
# Encoding would send instead. `gsm7_or_original` applies it only when that makes the whole
# message GSM-7 (English); Kazakh and Russian are UCS-2 anyway and keep their typography.
_SMART = {
    "«": '"',
    "»": '"',
    "“": '"',
    "”": '"',
    "„": '"',
    "‘": "'",
    "’": "'",
    "‚": "'",
    "‐": "-",
    "‑": "-",
    "–": "-",
    "—": "-",
    "−": "-",
    "…": "...",
    "\u00a0": " ",
    "\u202f": " ",
    "·": "-",
    "•": "-",
    "№": "No.",
}


class Encoding(StrEnum):
    GSM7 = "GSM-7"
    UCS2 = "UCS-2"


@dataclass(frozen=True, slots=True)
class SegmentCount:
    encoding: Encoding
    units: int  # septets (GSM-7) or 16-bit code units (UCS-2)
    segments: int

    @property
    def per_single(self) -> int:
        return GSM7_SINGLE if self.encoding is Encoding.GSM7 else UCS2_SINGLE


def is_gsm7(text: str) -> bool:
    return all(ch in GSM7_BASIC or ch in GSM7_EXTENSION for ch in text)


def encoding_of(text: str) -> Encoding:
    return Encoding.GSM7 if is_gsm7(text) else Encoding.UCS2


def _unit_sizes(text: str, encoding: Encoding) -> list[int]:
    if encoding is Encoding.GSM7:
        return [2 if ch in GSM7_EXTENSION else 1 for ch in text]
    return [2 if ord(ch) > 0xFFFF else 1 for ch in text]


def count_segments(text: str) -> SegmentCount:
    """The exact segment count of `text` as one SMS (0 segments for the empty text)."""
    encoding = encoding_of(text)
    sizes = _unit_sizes(text, encoding)
    units = sum(sizes)
    single, part = (
        (GSM7_SINGLE, GSM7_PART) if encoding is Encoding.GSM7 else (UCS2_SINGLE, UCS2_PART)
    )
    if units == 0:
        return SegmentCount(encoding, 0, 0)
    if units <= single:
        return SegmentCount(encoding, units, 1)
    parts, used = 1, 0
    for size in sizes:
        if used + size > part:  # an escape pair or a surrogate pair never straddles two parts
            parts += 1
            used = 0
        used += size
    return SegmentCount(encoding, units, parts)


def segments(text: str) -> int:
    return count_segments(text).segments


def gsm7_or_original(text: str) -> str:
    """`text` with typographic punctuation replaced when that makes it GSM-7; else unchanged."""
    if is_gsm7(text):
        return text
    folded = "".join(_SMART.get(ch, ch) for ch in text)
    return folded if is_gsm7(folded) else text
