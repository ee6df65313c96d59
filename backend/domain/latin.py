"""Names and addresses in Latin letters for English screens (issue 15).

Kazakh and Russian Cyrillic are transliterated by the table Kazakhstan's passports and identity
cards use: ICAO Doc 9303 (Machine Readable Travel Documents), Part 3, "Transliteration of
Cyrillic characters" (А A, Ж ZH, Х KH, Ц TS, Ч CH, Ш SH, Щ SHCH, Ы Y, Ъ IE, Ю IU, Я IA, Й I,
Ь omitted), with the Kazakh letters as those documents write them (Ә A, Ғ G, Қ K, Ң N, Ө O,
Ұ U, Ү U, Һ H, І I). The result is plain ASCII, so an English SMS stays GSM-7. It is computed
once, when a doctor or a clinic is stored (the importer takes a register's official Latin form
instead when it has one: docs/import.md), not at every screen.
"""

from __future__ import annotations

# ICAO Doc 9303 Part 3 (Cyrillic), and the Kazakh letters as in Kazakhstan's passports.
ICAO_9303_KZ: dict[str, str] = {
    "А": "A", "Б": "B", "В": "V", "Г": "G", "Д": "D", "Е": "E", "Ё": "E", "Ж": "ZH",
    "З": "Z", "И": "I", "Й": "I", "К": "K", "Л": "L", "М": "M", "Н": "N", "О": "O",
    "П": "P", "Р": "R", "С": "S", "Т": "T", "У": "U", "Ф": "F", "Х": "KH", "Ц": "TS",
    "Ч": "CH", "Ш": "SH", "Щ": "SHCH", "Ъ": "IE", "Ы": "Y", "Ь": "", "Э": "E", "Ю": "IU",
    "Я": "IA",
    # Kazakh letters (Kazakhstan's passports and identity cards).
    "Ә": "A", "Ғ": "G", "Қ": "K", "Ң": "N", "Ө": "O", "Ұ": "U", "Ү": "U", "Һ": "H", "І": "I",
}  # fmt: skip


def to_latin(text: str) -> str:
    """`text` with every Cyrillic letter in Latin: «Оспанова С. Б.» → "Ospanova S. B.",
    «Абай даңғылы, 65» → "Abai dangyly, 65". Case follows the source letter (a capital that
    becomes two letters is "Zh" before a small letter or alone, "ZH" before a capital)."""
    out: list[str] = []
    for index, ch in enumerate(text):
        upper = ch.upper()
        latin = ICAO_9303_KZ.get(upper)
        if latin is None:
            out.append(ch)
        elif ch.isupper():
            following = text[index + 1 : index + 2]
            shout = following.isalpha() and following.isupper()
            out.append(latin if shout else latin.capitalize())
        else:
            out.append(latin.lower())
    return "".join(out)
