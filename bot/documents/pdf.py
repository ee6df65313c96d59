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

# S5 (form 027/е) and S17-S19 (registry statements); kk wording after the standards' titles.
TITLES: dict[ServiceType, dict[str, str]] = {
    ServiceType.CERTIFICATE_027: {
        "kk": "МСАК ұйымынан анықтама (027/е нысаны)",
        "ru": "Справка из организации ПМСП (форма 027/у)",
        "en": "Certificate from the PHC organisation (form 027/e)",
    },
    ServiceType.STATEMENT_TB: {
        "kk": "Туберкулезге қарсы диспансердің есебінде тұру-тұрмау туралы анықтама",
        "ru": "Справка о состоянии на учёте в противотуберкулёзном диспансере",
        "en": "Statement from the TB dispensary register",
    },
    ServiceType.STATEMENT_PSYCHIATRY: {
        "kk": "Психиатриялық диспансердің есебінде тұру-тұрмау туралы анықтама",
        "ru": "Справка о состоянии на учёте в психиатрическом диспансере",
        "en": "Statement from the psychiatric dispensary register",
    },
    ServiceType.STATEMENT_NARCOLOGY: {
        "kk": "Наркологиялық диспансердің есебінде тұру-тұрмау туралы анықтама",
        "ru": "Справка о состоянии на учёте в наркологическом диспансере",
        "en": "Statement from the narcological dispensary register",
    },
}

LABELS: dict[str, dict[str, str]] = {
    "kk": {
        "holder": "Аты-жөні",
        "iin": "ЖСН",
        "born": "Туған күні",
        "issuer": "Берген ұйым",
        "date": "Берілген күні",
        "number": "Құжат нөмірі",
        "until": "Жарамды мерзімі",
        "on": "Есепте тұрады.",
        "off": "Есепте тұрмайды.",
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
        "until": "Действительна до",
        "on": "Состоит на учёте.",
        "off": "На учёте не состоит.",
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
        "until": "Valid until",
        "on": "Is on the register.",
        "off": "Is not on the register.",
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
        canvas.setFont(FONT_BOLD, 13)
        for line in _wrap(TITLES[content.service][lang], FONT_BOLD, 13, column):
            canvas.drawString(x, y, line)
            y -= 17
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
            canvas.setFont(FONT_BOLD, 10)
            for line in _wrap(value, FONT_BOLD, 10, column):
                canvas.drawString(x, y, line)
                y -= 13
            y -= 4
        y -= 8
        if content.on_register is None:
            result = labels["completed"]
        else:
            result = labels["on"] if content.on_register else labels["off"]
        canvas.setFont(FONT_BOLD, 12)
        for line in _wrap(result, FONT_BOLD, 12, column):
            canvas.drawString(x, y, line)
            y -= 15
        y -= 10
        canvas.setFont(FONT, 8)
        for line in _wrap(labels["signed"], FONT, 8, column):
            canvas.drawString(x, y, line)
            y -= 11
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
