"""The document's layout: Kazakh and Russian side by side (the patient's language first),
DejaVu Sans embedded (every Kazakh letter: Ә Ғ Қ Ң Ө Ұ Ү Һ І), a QR code to /verify/{code}."""

from __future__ import annotations

import io
from functools import cache
from importlib import resources

import segno
from reportlab.lib.pagesizes import A4
from reportlab.lib.utils import ImageReader
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen.canvas import Canvas

from backend.domain.documents import DocumentContent, format_code
from backend.domain.statuses import ServiceType

FONT, FONT_BOLD = "DejaVuSans", "DejaVuSans-Bold"

# The document names, as the standards word them (seed 003 and seed 000; the Russian as the
# Russian texts of the standards; English ours):
# - S5 (seed 003 L236, seed 000 L603-606, R-28): «№ 027/е нысаны бойынша … медициналық-
#   санитариялық алғашқы көмек көрсететін медициналық ұйымнан анықтама» (ҚР ДСМ-175/2020);
#   Russian form «027/у» (the «/е» suffix is the Russian «/у», seed-003 form-number note).
# - S17-S19 (seed 003 L892, L944, L996): the service «"Фтизиатрия" Фтизиопульмонология
#   орталығынан мәліметтер ұсыну» (and "Психиатрия"/"Наркология" Психикалық денсаулық
#   орталығынан …): the document is «мәлімет» (information), not a dispensary «анықтама».
TITLES: dict[ServiceType, dict[str, str]] = {
    ServiceType.CERTIFICATE_027: {
        "kk": "№ 027/е нысаны бойынша медициналық-санитариялық алғашқы көмек көрсететін "
        "медициналық ұйымнан анықтама",
        "ru": "Справка из медицинской организации, оказывающей первичную медико-санитарную "
        "помощь, по форме № 027/у",
        "en": "Certificate from the primary health care organisation, form No. 027/e",
    },
    ServiceType.STATEMENT_TB: {
        "kk": "«Фтизиатрия» Фтизиопульмонология орталығынан мәлімет",
        "ru": "Сведения из Центра фтизиопульмонологии «Фтизиатрия»",
        "en": "Information from the Phthisiopulmonology Centre “Phthisiology”",
    },
    ServiceType.STATEMENT_PSYCHIATRY: {
        "kk": "«Психиатрия» Психикалық денсаулық орталығынан мәлімет",
        "ru": "Сведения из Центра психического здоровья «Психиатрия»",
        "en": "Information from the Mental Health Centre “Psychiatry”",
    },
    ServiceType.STATEMENT_NARCOLOGY: {
        "kk": "«Наркология» Психикалық денсаулық орталығынан мәлімет",
        "ru": "Сведения из Центра психического здоровья «Наркология»",
        "en": "Information from the Mental Health Centre “Narcology”",
    },
}

# What the statement is about: the result row (row 7) of each standard, word for word in
# Kazakh (S17 L905-935 «…байқауда…бақылаудың болмауы», S18 the same, S19 «…бақылауда…
# бақылауда болмауы»): whether the person is under dynamic observation.
SUBJECTS: dict[ServiceType, dict[str, str]] = {
    ServiceType.STATEMENT_TB: {
        "kk": "Туберкулезбен ауыратын науқастардың динамикалық байқауда тұрғаны туралы (немесе "
        "динамикалық бақылаудың болмауы) мәлімет",
        "ru": "Сведения о нахождении больного туберкулёзом на динамическом наблюдении (или об "
        "отсутствии динамического наблюдения)",
        "en": "Whether the person is under dynamic observation as a TB patient (or is not)",
    },
    ServiceType.STATEMENT_PSYCHIATRY: {
        "kk": "Динамикалық байқауда тұрғаны туралы (немесе динамикалық бақылаудың болмауы) "
        "мәлімет",
        "ru": "Сведения о нахождении на динамическом наблюдении (или об отсутствии "
        "динамического наблюдения)",
        "en": "Whether the person is under dynamic observation (or is not)",
    },
    ServiceType.STATEMENT_NARCOLOGY: {
        "kk": "Динамикалық бақылауда тұрғаны туралы (немесе динамикалық бақылауда болмауы) "
        "мәлімет",
        "ru": "Сведения о нахождении на динамическом наблюдении (или об отсутствии "
        "динамического наблюдения)",
        "en": "Whether the person is under dynamic observation (or is not)",
    },
}
# The answer, in the standard's words: under dynamic observation, or not (S19 says
# «бақылауда», S17/S18 «байқауда»).
RESULTS: dict[ServiceType, dict[str, tuple[str, str]]] = {
    service: {
        "kk": (
            f"Динамикалық {word} тұрады.",
            f"Динамикалық {word} тұрмайды (динамикалық бақылау жоқ).",
        ),
        "ru": ("Состоит на динамическом наблюдении.", "На динамическом наблюдении не состоит."),
        "en": ("Is under dynamic observation.", "Is not under dynamic observation."),
    }
    for service, word in (
        (ServiceType.STATEMENT_TB, "байқауда"),
        (ServiceType.STATEMENT_PSYCHIATRY, "байқауда"),
        (ServiceType.STATEMENT_NARCOLOGY, "бақылауда"),
    )
}


LABELS: dict[str, dict[str, str]] = {
    "kk": {
        "holder": "Аты-жөні",
        "iin": "ЖСН",
        "born": "Туған күні",
        "issuer": "Берген ұйым",
        "date": "Берілген күні",
        "number": "Құжат нөмірі",
        "until": "Қолданылу мерзімі – күнтізбелік 10 күн, дейін",  # R-30, S17-S19 row 8
        "completed": "Анықтама берілді.",
        "code": "Тексеру коды",
        "signed": "ЭЦҚ-мен қол қойылған электрондық құжат.",
    },
    "ru": {
        "holder": "ФИО",
        "iin": "ИИН",
        "born": "Дата рождения",
        "issuer": "Выдавшая организация",
        "date": "Дата выдачи",
        "number": "Номер документа",
        "until": "Срок действия – 10 календарных дней, до",
        "completed": "Справка выдана.",
        "code": "Код проверки",
        "signed": "Электронный документ, подписанный ЭЦП.",
    },
    "en": {
        "holder": "Full name",
        "iin": "IIN",
        "born": "Date of birth",
        "issuer": "Issued by",
        "date": "Date of issue",
        "number": "Document number",
        "until": "Valid for 10 calendar days, until",
        "completed": "Certificate issued.",
        "code": "Verification code",
        "signed": "Electronic document signed with an electronic digital signature.",
    },
}


@cache
def register_fonts() -> None:
    fonts = resources.files("bot.documents") / "fonts"
    for name, filename in ((FONT, "DejaVuSans.ttf"), (FONT_BOLD, "DejaVuSans-Bold.ttf")):
        with resources.as_file(fonts / filename) as path:
            pdfmetrics.registerFont(TTFont(name, str(path)))


def _wrap(text: str, font: str, size: float, width: float) -> list[str]:
    lines: list[str] = []
    line = ""
    for word in text.split():
        trial = f"{line} {word}".strip()
        if pdfmetrics.stringWidth(trial, font, size) <= width or not line:
            line = trial
        else:
            lines.append(line)
            line = word
    if line:
        lines.append(line)
    return lines


def _qr(canvas: Canvas, url: str, x: float, y: float, size: float) -> None:
    """The QR code as an embedded image (scanners and tests read it back from the PDF)."""
    png = io.BytesIO()
    segno.make(url, error="m").save(png, kind="png", scale=8, border=2)
    png.seek(0)
    canvas.drawImage(ImageReader(png), x, y, width=size, height=size)


def _draw(
    canvas: Canvas, text: str, font: tuple[str, float], at: tuple[float, float], width: float
) -> float:
    """Draw `text` wrapped to `width` from `at` (x, y) down; the y below it."""
    name, size = font
    x, y = at
    canvas.setFont(name, size)
    for line in _wrap(text, name, size, width):
        canvas.drawString(x, y, line)
        y -= round(size * 1.3)
    return y


def render(content: DocumentContent) -> bytes:
    """The unsigned PDF of one document (one A4 page, a column per language)."""
    register_fonts()
    buffer = io.BytesIO()
    width, height = A4
    canvas = Canvas(buffer, pagesize=A4, invariant=True)
    canvas.setTitle(f"{TITLES[content.service]['kk']} / {content.number}")
    canvas.setAuthor(content.issuer)
    margin, gap = 40.0, 20.0
    langs = content.languages
    column = (width - 2 * margin - gap * (len(langs) - 1)) / len(langs)
    for index, lang in enumerate(langs):
        labels = LABELS[lang]
        x = margin + index * (column + gap)
        y = height - margin - 14
        y = _draw(canvas, TITLES[content.service][lang], (FONT_BOLD, 13), (x, y), column)
        subject = SUBJECTS.get(content.service)
        if subject is not None:
            y = _draw(canvas, subject[lang], (FONT, 9), (x, y), column)
        y -= 10
        rows = [
            (labels["number"], content.number),
            (labels["holder"], content.holder_name),
            (labels["iin"], content.holder_iin),
            (labels["born"], content.holder_birth_date.strftime("%d.%m.%Y")),
            (labels["issuer"], content.issuer),
            (labels["date"], content.issued_on.strftime("%d.%m.%Y")),
        ]
        if content.valid_until is not None:
            rows.append((labels["until"], content.valid_until.strftime("%d.%m.%Y")))
        for label, value in rows:
            canvas.setFont(FONT, 8)
            canvas.drawString(x, y, label)
            y -= 12
            y = _draw(canvas, value, (FONT_BOLD, 10), (x, y), column) - 4
        y -= 8
        if content.on_register is None or content.service not in RESULTS:
            result = labels["completed"]
        else:
            on, off = RESULTS[content.service][lang]
            result = on if content.on_register else off
        y = _draw(canvas, result, (FONT_BOLD, 12), (x, y), column) - 10
        y = _draw(canvas, labels["signed"], (FONT, 8), (x, y), column)
        canvas.drawString(x, y, f"{labels['code']}: {format_code(content.code)}")
    qr_size = 110.0
    _qr(canvas, content.verify_url, margin, margin + 20, qr_size)
    canvas.setFont(FONT, 8)
    canvas.drawString(margin + qr_size + 10, margin + 70, content.verify_url)
    canvas.setFont(FONT_BOLD, 14)
    canvas.drawString(margin + qr_size + 10, margin + 50, format_code(content.code))
    canvas.showPage()
    canvas.save()
    return buffer.getvalue()
