"""The emergency recogniser (S12, R-38): normalise, find concepts, combine them.

How a message is read, like a triage nurse reads an SMS:

1. Normalise every word twice. The *Cyrillic key* (for the Kazakh and Russian lists): case
   folded, «ё»→«е», Kazakh letters folded to their Russian-keyboard substitutes (ә→а, ө→о,
   ү/ұ→у, қ→к, ғ→г, ң→н, һ→х, і/ы/й→и), soft and hard signs dropped, «тс»/«дц»→«ц», repeated
   letters collapsed; a word typed in Latin letters is first transliterated (Russian
   "serdtse bolit", "ne dyshit", Kazakh "zhurek auyrady", "jürek", "qan ketıp", the 2021
   alphabet ä ö ü ğ q ñ ū ı and the 2017 apostrophes a' o' u' g' n' s' c'). The *Latin key* (for
   the English list): case folded, apostrophes dropped, repeated letters collapsed.
2. Find concepts: a term of a list is one or more stems; each stem begins one word (stems of
   6+ letters also with one typo; 5-letter stems with two neighbours swapped or an о/а, е/и
   written by ear, unless the word is itself a known stem), the stems in order with at most
   one word between. A concept
   right after «не/нет/без/не было/no/not/denies…» or right before «жоқ/емес» is negated and
   dropped (the negative emergencies «не дышит», «оянбайды» are terms of their own).
3. Combine: some concepts are emergencies on their own (`emergency.*` sections: «не дышит»,
   «инсульт», "unconscious"); others only together, near each other in the message
   (chest + pain, vomiting + blood, belly + pain + severe, pregnancy + bleeding, an infant
   under 3 months + fever 38+, throat + swelling …). Decisions, for the clinic to review:
   - bleeding is an emergency on its own, unless the message says it is minor («немного»,
     «чуть», "a little") or from the gums/nose, and nothing says it is heavy or will not stop;
   - burns and cuts likewise; a fall counts with a head injury or a fall from a height;
   - abdominal pain counts with a severity word, with blood, or in pregnancy;
   - fever counts in an infant (a newborn, or up to 3 months / 12 weeks / 90 days old) at 38
     or more (or with no figure), up to 6 months at 39 or more, and at any age from 41;
   - an attack of a named disease («астма ұстап қалды», «приступ эпилепсии»), one side of the
     body that does not work («бір жағы салбырап», "cant move his right side") and killing
     oneself in any order or tense («убьет себя», «өзін өлтіремін») are combinations of
     concepts, not fixed phrases;
   - a past event anywhere in the message («былтыр», «в детстве», "last month", a year before
     this one, the Kazakh pluperfect «-ған еді») silences every kind unless it is back
     («тағы да», «опять», "again") or told as present after «қазір», «сейчас», "now" (that
     part, up to the next past marker, is read again on its own); a bleeding, vomited blood,
     belly pain, poisoning, seizure, burn or injury that is over («қазір тоқтады», «уже
     лучше», "bleeding stopped") or that recurs («ай сайын», «иногда», "every month") is no
     emergency; a long-standing chest complaint («бұрыннан», «давно») only when something
     says it is severe now;
   - in doubt it errs on the side of 103: a false alarm costs the patient a rephrase, a missed
     one may cost a life.

Everything is compiled once at import; a message is read without touching the disk.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from importlib import resources

LANGUAGES = ("kk", "ru", "en")

# The emergency kinds (S12): each `emergency.<kind>` section of a list is one on its own.
CATEGORIES = (
    "chest",
    "breathing",
    "unconscious",
    "stroke",
    "seizure",
    "bleeding",
    "vomit_blood",
    "abdomen",
    "poisoning",
    "suicide",
    "labour",
    "infant_fever",
    "anaphylaxis",
    "burn",
    "injury",
    "general",
)

# Concepts that count only in combination (see `_combine`).
PARTS = (
    "negation",  # «не», "not": the concept word right after it is negated
    "negation_after",  # «жоқ», «емес»: the concept word right before it is negated
    "chest_site",  # грудь, сердце, кеуде, chest, heart
    "pain",  # болит, давит, ауырады, pain, hurts
    "breath",  # дышать, тыныс, breathe
    "breath_trouble",  # трудно, не может, қиын, difficulty
    "dyspnoea",  # одышка, ентігу (with a severity word or chest pain: breathing)
    "nose",  # нос, мұрын, nose (a blocked nose is no breathing emergency)
    "blood",  # кровь, қан, blood
    "blood_flow",  # идет, течет, хлещет, ағып, pouring (blood that flows = bleeding)
    "vomit",  # рвота, құсу, vomiting
    "cough",  # кашель, жөтел, cough
    "belly",  # живот, іш, stomach
    "severe",  # сильный, қатты, severe (also «не останавливается»)
    "minor",  # немного, аздап, a little
    "benign_site",  # десны, нос, gums (bleeding there is seldom an emergency)
    "pregnant",  # беременна, жүкті, pregnant
    "fever",  # температура, қызу, fever
    "degree",  # градус, degrees
    "not_falling",  # не сбивается, түспей (fever)
    "newborn",  # новорожденный, нәресте, newborn
    "child",  # ребенку, балам, baby
    "month",  # месяц, ай, month
    "week",  # неделя, апта, week
    "day",  # день, күн, day
    "number_word",  # один, бір, one (a month: «малышу месяц», «бір айлық»)
    "age_suffix",  # old, күндік/айлық (N-day-old)
    "swelling",  # отек, ісік, swelling
    "throat",  # горло, тамақ, throat (swelling there = anaphylaxis)
    "allergy",  # аллергия, allergic
    "trigger",  # укус, орехи, укол, ара, sting, peanut (an allergy trigger)
    "face",  # лицо, губы, бет, face (swelling there counts after a trigger)
    "tonsils",  # гланды, бадамша, tonsils (swollen: no anaphylaxis)
    "swallow_trouble",  # трудно глотать, жұтына алмай, can't swallow
    "fall",  # упал, құлады, fell
    "head",  # голова, бас, head
    "height",  # с высоты, балкон, биіктен, from a height
    "cramp_site",  # ноги, икры, аяқ, legs (leg cramps are no seizure)
    "ingest",  # выпил, ішіп қойды, drank (with pills in an amount, with chemicals)
    "accident",  # съел, наглотал, жұтып қойды, swallowed (pills: a child or an amount)
    "pills",  # таблетки, дәрі, pills
    "chemical",  # уксус, бытовая химия, сірке суы, bleach (swallowed: poisoning)
    "amount",  # много, всю пачку, көп, a whole bottle
    "sugar",  # сахар, қант, sugar: a blood sugar of 3 or less, or 25 or more
    "pressure",  # давление, қысым, pressure: 200 or more over 120 or more
    "past",  # год назад, былтыр, last year: a past event is no emergency now
    "again",  # опять, снова, тағы, again: the past event is back now
    "resolved",  # кровь остановилась, қазір жақсы, better now: it has passed
    "habitual",  # ай сайын, иногда, every month: a recurring complaint, not an acute one
    "attack",  # приступ, ұстама, ұстап қалды, attack, fit (with a disease: that disease's attack)
    "asthma",  # астма, демікпе, asthma (an attack of it: breathing)
    "epilepsy",  # эпилепсия, талма ауруы, epilepsy (an attack of it: a seizure)
    "one_side",  # одна сторона, половина тела, бір жағы, one side, right side
    "limb_trouble",  # онемела, отнялась, жансыз, салбырап, cant move, numb, drooping
    "kill",  # убить, убьёт, өлтір, kill (with «себя/өзін/myself»: suicide)
    "self",  # себя, себе, өзін, өзімді, myself, himself
    "now",  # қазір, бүгін, сейчас, теперь, now, today: what follows is read on its own
    "known",  # курс, қалады: ordinary words that are read as themselves, never as a typo
)
CONCEPTS = frozenset((*(f"emergency.{c}" for c in CATEGORIES), *PARTS))

_NEAR = 4  # words between two concepts that go together (chest … pain)
_FUZZY_MIN = 6  # stems this long also match with one typo
_SHORT_TYPO_MIN = 5  # stems this long allow two letters swapped or a vowel by ear (`_short_typo`)
_TYPO_WORD_MIN = 5  # in a word at least this long (a short word with a typo is another word)
_EAR_VOWELS = (frozenset("ао"), frozenset("еи"))  # the unstressed Russian vowels


class LexiconError(ValueError):
    """A malformed entry in a word list: file, line and what is wrong."""


# ---------------------------------------------------------------- normalisation

_APOSTROPHES = "'’`ʼʻ‘"
_TOKEN = re.compile(r"\d+(?:[.,]\d+)?|[^\W\d_]+(?:[" + _APOSTROPHES + r"][^\W\d_]+)*")
_CYR_FOLD = str.maketrans(
    {
        "ә": "а",
        "ө": "о",
        "ү": "у",
        "ұ": "у",
        "қ": "к",
        "ғ": "г",
        "ң": "н",
        "һ": "х",
        "і": "и",
        "ы": "и",
        "й": "и",
        "ё": "е",
        "э": "е",
        "щ": "ш",
        "я": "иа",  # я = йа, ю = йу: «оянбай» and the Latin "oianbai", "oyanbai" meet
        "ю": "иу",
        "ъ": None,
        "ь": None,
    }
)
# Latin → Cyrillic, longest first: Russian transliteration and the Kazakh Latin alphabets.
_LATIN = (
    ("shch", "ш"),
    ("sch", "ш"),
    ("zh", "ж"),
    ("kh", "х"),
    ("gh", "г"),  # Kazakh ғ in the Latin of phones: "tughan", "aghyp", "zhoghaltty"
    ("ch", "ч"),
    ("sh", "ш"),
    ("ts", "ц"),
    ("ya", "я"),
    ("yu", "ю"),
    ("yo", "е"),
    ("ye", "е"),
    ("ck", "к"),
    ("a'", "а"),
    ("o'", "о"),
    ("u'", "у"),
    ("g'", "г"),
    ("n'", "н"),
    ("s'", "ш"),
    ("c'", "ч"),
    ("i'", "и"),
)
_LATIN_ONE = {
    "a": "а",
    "b": "б",
    "c": "ц",
    "d": "д",
    "e": "е",
    "f": "ф",
    "g": "г",
    "h": "х",
    "i": "и",
    "j": "ж",
    "k": "к",
    "l": "л",
    "m": "м",
    "n": "н",
    "o": "о",
    "p": "п",
    "q": "к",
    "r": "р",
    "s": "с",
    "t": "т",
    "u": "у",
    "v": "в",
    "w": "у",
    "x": "х",
    "y": "ы",
    "z": "з",
    "ä": "а",
    "ö": "о",
    "ü": "у",
    "ū": "у",
    "ğ": "г",
    "ñ": "н",
    "ş": "ш",
    "ç": "ч",
    "ı": "ы",
    "ī": "и",
}
_LATIN_RE = re.compile("|".join(re.escape(k) for k, _ in _LATIN) + "|.", re.DOTALL)
_LATIN_MAP = dict(_LATIN)
_REPEATS = re.compile(r"(.)\1+")
_NO_APOSTROPHES = str.maketrans("", "", _APOSTROPHES)


def _translit(word: str) -> str:
    out = []
    for m in _LATIN_RE.finditer(word):
        piece = m.group()
        if piece in _LATIN_MAP:
            out.append(_LATIN_MAP[piece])
        elif piece in _APOSTROPHES:
            continue
        else:
            out.append(_LATIN_ONE.get(piece, piece))
    return "".join(out)


def _is_latin(word: str) -> bool:
    return any("a" <= ch <= "z" or ch in _LATIN_ONE for ch in word)


# Latin letters that look Cyrillic, typed inside a Cyrillic word (a mixed keyboard: «бoлит»).
_HOMOGLYPHS = str.maketrans("aeopcxykmthbi", "аеорсхукмтнві")


def _cyr_key(word: str) -> str:
    if _is_latin(word):
        cyrillic = sum("а" <= ch <= "я" or ch in "әөүұқғңһіё" for ch in word)
        word = word.translate(_HOMOGLYPHS) if cyrillic * 2 > len(word) else _translit(word)
    word = word.translate(_CYR_FOLD).replace("тс", "ц").replace("дц", "ц")
    return _REPEATS.sub(r"\1", word.translate(str.maketrans("", "", _APOSTROPHES)))


def _lat_key(word: str) -> str:
    word = word.translate(str.maketrans("", "", _APOSTROPHES))
    return _REPEATS.sub(r"\1", word)


@dataclass(frozen=True)
class Word:
    """One word of a message: its Cyrillic key, its Latin key (Latin words only) or a number."""

    cyr: str
    lat: str | None
    number: float | None = None
    english: bool = False  # a word only English has ("the", "my"), as typed: "iis" is not "is"


# A code, not words (found by typing random application numbers at «My applications»: 0.15 %
# of them read as an emergency). Application numbers and document codes are groups of the
# code alphabet (backend/domain/documents.py: no 0, 1, I, L, O, U) joined by hyphens,
# «TA3H-C42T», «ADDJ-H2B6-N5»; split, their pieces read as a temperature beside «т» («C42T»),
# «ад 42», «дтп», «яд». Such a group typed with a digit or in capitals is dropped, and so is any
# run that goes letter, digit, letter or digit, letter, digit («ТА3Н»): no body temperature or
# word is written so («39С», «t39», «40,5°C», «self-harm», «covid-19» stay).
_CODE_CHAR = "[2-9A-HJKMNP-TV-Z]"
_CODE_GROUPS = re.compile(rf"(?<![\w-]){_CODE_CHAR}{{4}}(?:-{_CODE_CHAR}{{2,4}})+(?![\w-])", re.I)
_INTERLEAVED = re.compile(r"\w*(?:[^\W\d_]\d+[^\W\d_]|\d[^\W\d_]+\d)\w*")


def _not_a_code(found: re.Match[str]) -> str:
    code = found[0]
    return " " if code.isupper() or any(ch.isdigit() for ch in code) else code


def _fold(text: str) -> str:
    text = _CODE_GROUPS.sub(_not_a_code, unicodedata.normalize("NFKC", text))
    text = _INTERLEAVED.sub(" ", text.casefold())
    return text.replace("°", " градус ").replace("ё", "е")


def normalize(text: str) -> tuple[str, ...]:
    """The words of the text as the Kazakh/Russian lists see them (Latin transliterated)."""
    return tuple(w.cyr for w in _words(text))


def _words(text: str) -> tuple[Word, ...]:
    words = []
    for raw in _TOKEN.findall(_fold(text)):
        if raw[0].isdecimal():  # as \d: «𐹠» is a digit to isdigit(), not to float()
            number = float(raw.replace(",", "."))
            words.append(Word(raw.replace(",", "."), raw.replace(",", "."), number))
        else:
            latin = _is_latin(raw)
            marker = latin and raw.translate(_NO_APOSTROPHES) in _ENGLISH_MARKERS
            words.append(Word(_cyr_key(raw), _lat_key(raw) if latin else None, english=marker))
    return tuple(words)


# ---------------------------------------------------------------- the word lists


@dataclass(frozen=True)
class Stem:
    text: str
    exact: bool  # «=word»: the whole word, not its beginning
    latin: bool  # an English stem, matched against the Latin key


@dataclass(frozen=True)
class Term:
    stems: tuple[Stem, ...]
    source: str  # file:line, for the reviewers


@dataclass
class Lexicon:
    """Every concept's terms and exceptions, from all the language files."""

    terms: dict[str, list[Term]] = field(default_factory=dict)
    exceptions: dict[str, list[Term]] = field(default_factory=dict)

    def add(self, other: Lexicon) -> None:
        for name, terms in other.terms.items():
            self.terms.setdefault(name, []).extend(terms)
        for name, terms in other.exceptions.items():
            self.exceptions.setdefault(name, []).extend(terms)


def _stem(raw: str, where: str) -> Stem:
    exact = raw.startswith("=")
    body = raw.removeprefix("=")
    if not body or not all(ch.isalpha() or ch in _APOSTROPHES for ch in body):
        raise LexiconError(f"{where}: {raw!r} is not a word stem")
    folded = _fold(body).strip()
    latin = _is_latin(folded) and not any("а" <= ch <= "я" for ch in folded)
    key = _lat_key(folded) if latin else _cyr_key(folded)
    if not key:
        raise LexiconError(f"{where}: {raw!r} is empty once normalised")
    return Stem(key, exact, latin)


def parse_lexicon(text: str, name: str) -> Lexicon:
    """Read one word list. Format (see the header of each file):

    `[concept]` opens a section; each line below is a term of stems separated by spaces
    (`=word` for a whole word); a line `-stems` is an exception (a match of the concept that
    begins where the exception matches does not count); `#` starts a comment.
    """
    lexicon = Lexicon()
    section: str | None = None
    for number, line in enumerate(text.splitlines(), start=1):
        where = f"{name}:{number}"
        entry = line.split("#", 1)[0].strip()
        if not entry:
            continue
        if entry.startswith("["):
            if not entry.endswith("]"):
                raise LexiconError(f"{where}: a section is written [name]")
            section = entry[1:-1].strip()
            if section not in CONCEPTS:
                raise LexiconError(f"{where}: unknown concept {section!r}")
            continue
        if section is None:
            raise LexiconError(f"{where}: an entry before the first [section]")
        exception = entry.startswith("-")
        parts = entry.removeprefix("-").split()
        if not parts or len(parts) > 5:
            raise LexiconError(f"{where}: a term has 1 to 5 stems")
        term = Term(tuple(_stem(part, where) for part in parts), where)
        (lexicon.exceptions if exception else lexicon.terms).setdefault(section, []).append(term)
    return lexicon


def load_lexicon(languages: Iterable[str] = LANGUAGES) -> Lexicon:
    lexicon = Lexicon()
    folder = resources.files(__package__ or "dialogs.emergency")
    for language in languages:
        text = folder.joinpath(f"{language}.txt").read_text(encoding="utf-8")
        lexicon.add(parse_lexicon(text, f"{language}.txt"))
    return lexicon


# ---------------------------------------------------------------- matching


# The letters people confuse when they type fast or spell by ear: vowels for vowels (the
# unstressed «о/а», «е/и»: «сазнание», «кравотечение») and voiced for voiceless consonants.
# Any other substitution is no typo (перенос is not перекос, инсулин is not инсульт).
_CONFUSABLE = [set("аеиоуяю"), set("aeiouy"), *map(set, ("бп", "вф", "гк", "дт", "жш", "зс"))]
_CONFUSABLE += [*map(set, ("bp", "vf", "gk", "dt", "zs"))]


def _confusable(x: str, y: str) -> bool:
    return any(x in group and y in group for group in _CONFUSABLE)


def _within_one_edit(a: str, b: str) -> bool:
    """One typo apart: a letter missing, one too many, two swapped or one confused."""
    if a == b:
        return True
    la, lb = len(a), len(b)
    if abs(la - lb) > 1:
        return False
    if la == lb:
        diff = [i for i in range(la) if a[i] != b[i]]
        if len(diff) == 1:
            return _confusable(a[diff[0]], b[diff[0]])
        return (
            len(diff) == 2
            and diff[1] == diff[0] + 1
            and a[diff[0]] == b[diff[1]]
            and a[diff[1]] == b[diff[0]]
        )
    if la > lb:
        a, b = b, a
    i = 0
    while i < len(a) and a[i] == b[i]:
        i += 1
    return a[i:] == b[i + 1 :]


def _short_typo(word: str, stem: str, exact: bool) -> bool:
    """The typos a 5-letter stem allows in a word of 5+ letters: two neighbours swapped after
    the first letter («слиьная», «грдуной»), or an unstressed о/а or е/и written by ear
    («жевот», «кравь»). Not a letter left out («курс» is not «құрыс»), not any other vowel
    («кеуде» is not «кейде»), nor any letter of a 4-letter stem («құпия» is not «күйіп»):
    measured on the standards' own text, those make false alarms."""
    n = len(stem)
    if len(word) < _TYPO_WORD_MIN or (exact and len(word) != n):
        return False
    diff = [i for i in range(1, n) if word[i] != stem[i]]
    if len(diff) == 1:
        i = diff[0]
        return any({word[i], stem[i]} <= pair for pair in _EAR_VOWELS)
    return (
        len(diff) == 2
        and diff[1] == diff[0] + 1
        and word[diff[0]] == stem[diff[1]]
        and word[diff[1]] == stem[diff[0]]
    )


# Kazakh voices a final к/қ/п before a vowel suffix: жүрек → жүрегі, тамақ → тамағы,
# толғақ → толғағы, сүйек → сүйегі, жауап → жауабы (folded: к→г, п→б).
_VOICED = {"к": "г", "п": "б"}


def _voiced_form(stem: Stem) -> str | None:
    """The voiced beginning a Kazakh stem also takes («жүрег» for «жүрек»), if any."""
    text = stem.text
    if stem.latin or stem.exact or len(text) < 4 or text[-1] not in _VOICED:
        return None
    return text[:-1] + _VOICED[text[-1]]


def _voiced(word: str, voiced: str | None) -> bool:
    n = len(voiced) if voiced else 0
    return voiced is not None and len(word) > n and word[n] in "аеиоу" and word.startswith(voiced)


def _stem_hits(word: str, stem: str, exact: bool, fuzzy: bool = True) -> bool:
    if word == stem or (not exact and word.startswith(stem)):
        return True
    if not fuzzy or len(stem) < _SHORT_TYPO_MIN or not word or word[0] != stem[0]:
        return False
    if len(stem) < _FUZZY_MIN:
        return _short_typo(word, stem, exact)
    if exact:
        return _within_one_edit(word, stem)
    n = len(stem)
    return any(_within_one_edit(word[: n + d], stem) for d in (-1, 0, 1) if n + d <= len(word))


Span = tuple[int, int]  # [start, end) in words


# Words that only an English message has (not Russian or Kazakh in Latin letters: no «i», «a»,
# «u», «on», «to», «men»): with one of them, Latin words are not read as transliteration, so
# "quickly" is not «күйік» (a burn).
_ENGLISH_MARKERS = frozenset(
    [
        "the",
        "my",
        "is",
        "and",
        "of",
        "with",
        "when",
        "he",
        "she",
        "his",
        "her",
        "hers",
        "have",
        "has",
        "had",
        "was",
        "were",
        "this",
        "that",
        "your",
        "our",
        "for",
        "from",
        "been",
        "are",
        "since",
        "after",
        "about",
        "what",
        "why",
        "how",
        "please",
        "its",
        "im",
        "ive",
        "dont",
        "doesnt",
        "didnt",
        "cant",
        "wont",
        "isnt",
        "wasnt",
        "they",
        "them",
        "their",
        "we",
        "me",
        "you",
        "him",
        "who",
        "some",
        "very",
        "just",
        "also",
    ]
)


# Concepts that say an emergency is over or long past: a negation inside one of their terms
# turns it around («кровь не остановилась»), see `Recogniser.spans`.
_OVER = frozenset({"resolved", "past"})

# Concepts that a word before them does not negate: «после укуса» is the trigger itself.
_NOT_NEGATED = frozenset({"trigger", "past", "number_word", "now"})


class _Matches:
    """Which stems one word of a message begins with: with a typo allowed, and exactly."""

    __slots__ = ("loose", "strict")

    def __init__(self, loose: frozenset[int], strict: frozenset[int]) -> None:
        self.loose = loose
        self.strict = strict


_NO_MATCH = _Matches(frozenset(), frozenset())
_CACHE_SIZE = 50_000


class Recogniser:
    """The word lists compiled: stems numbered and indexed by their first letter, terms by
    their first stem, so a word is compared with a few dozen stems, not with every list."""

    def __init__(self, lexicon: Lexicon) -> None:
        self.lexicon = lexicon
        ids: dict[Stem, int] = {}
        by_letter: dict[tuple[bool, str], list[tuple[int, Stem, str | None]]] = {}
        # first stem id -> (concept, stem ids, exception?)
        self.starts: dict[int, list[tuple[str, tuple[int, ...], bool]]] = {}
        for exception, table in ((False, lexicon.terms), (True, lexicon.exceptions)):
            for concept, terms in table.items():
                for term in terms:
                    term_ids = []
                    for stem in term.stems:
                        if stem not in ids:
                            ids[stem] = len(ids)
                            by_letter.setdefault((stem.latin, stem.text[0]), []).append(
                                (ids[stem], stem, _voiced_form(stem))
                            )
                        term_ids.append(ids[stem])
                    self.starts.setdefault(term_ids[0], []).append(
                        (concept, tuple(term_ids), exception)
                    )
        self.by_letter = {key: tuple(stems) for key, stems in by_letter.items()}
        # a word that begins with a known ordinary word is no typo of a stem: «курсы» (courses)
        # is not «құрысу», «қалады» (stays) is not «құлады» (fell)
        self.known = frozenset(
            ids[stem] for term in lexicon.terms.get("known", ()) for stem in term.stems
        )
        self._cache: dict[tuple[str, bool], tuple[frozenset[int], frozenset[int]]] = {}

    def _key_matches(self, key: str, latin: bool) -> tuple[frozenset[int], frozenset[int]]:
        cached = self._cache.get((key, latin))
        if cached is not None:
            return cached
        loose: set[int] = set()
        strict: set[int] = set()
        short: set[int] = set()
        for stem_id, stem, voiced in self.by_letter.get((latin, key[0]), ()):
            if _stem_hits(key, stem.text, stem.exact, fuzzy=False) or _voiced(key, voiced):
                strict.add(stem_id)
                loose.add(stem_id)
            elif (not latin or key[:2] == stem.text[:2]) and _stem_hits(
                key, stem.text, stem.exact
            ):  # English words are short and alike: a typo only after two letters
                (short if len(stem.text) < _FUZZY_MIN else loose).add(stem_id)
        if not strict:  # a known word is no typo of a short stem: «апта» (week) is not «апат»
            loose |= short
        elif strict & self.known:  # nor, when it is a listed ordinary word, of any stem
            loose = set(strict)
        result = (frozenset(loose), frozenset(strict))
        if len(self._cache) >= _CACHE_SIZE:
            self._cache.clear()
        self._cache[key, latin] = result
        return result

    def _matches(self, word: Word, english: bool) -> _Matches:
        if word.number is not None or not word.cyr:
            return _NO_MATCH
        if english and word.lat:  # an English message: its words are not transliteration
            return _Matches(*self._key_matches(word.lat, True))
        loose, strict = self._key_matches(word.cyr, False)
        if word.lat:
            lat_loose, lat_strict = self._key_matches(word.lat, True)
            loose, strict = loose | lat_loose, strict | lat_strict
        return _Matches(loose, strict)

    @staticmethod
    def _span(matches: Sequence[_Matches], start: int, ids: tuple[int, ...], exact: bool) -> int:
        """The end of the term that begins at `start`, or -1: each next stem within the next
        two words (one word between)."""
        at = start + 1
        for stem_id in ids[1:]:
            nxt = next(
                (
                    j
                    for j in (at, at + 1)
                    if j < len(matches)
                    and stem_id in (matches[j].strict if exact else matches[j].loose)
                ),
                None,
            )
            if nxt is None:
                return -1
            at = nxt + 1
        return at

    def spans(self, words: Sequence[Word]) -> dict[str, list[Span]]:
        english = any(word.english for word in words)
        matches = [self._matches(word, english) for word in words]
        found: dict[str, list[Span]] = {}
        excluded: dict[str, set[int]] = {}
        gapped: list[tuple[str, int, int]] = []
        for start, match in enumerate(matches):
            for stem_id in match.loose:
                for concept, ids, exception in self.starts.get(stem_id, ()):
                    if exception and stem_id not in match.strict:
                        continue  # exceptions are exact
                    end = self._span(matches, start, ids, exception)
                    if end < 0:
                        continue
                    if exception:
                        excluded.setdefault(concept, set()).update(range(start, end))
                    elif concept in _OVER and end - start > len(ids):
                        gapped.append((concept, start, end))  # a word between its stems
                    else:
                        found.setdefault(concept, []).append((start, end))
        return self._negated(found, excluded, gapped)

    @staticmethod
    def _negated(
        found: dict[str, list[Span]],
        excluded: Mapping[str, set[int]],
        gapped: Sequence[tuple[str, int, int]],
    ) -> dict[str, list[Span]]:
        """The spans left once negations and exceptions have been applied."""
        # «не болит», "no pain": negated right before; «қан кеткен жоқ»: right after.
        before = {e for _, e in found.get("negation", ())}
        after = {s for s, _ in found.get("negation_after", ())}
        # «кровь не остановилась», "bleeding hasnt stopped": a negation between the stems of a
        # term that says it is over says it is not over
        negations = {s for s, _ in (*found.get("negation", ()), *found.get("negation_after", ()))}
        for concept, start, end in gapped:
            if not negations & set(range(start + 1, end - 1)):
                found.setdefault(concept, []).append((start, end))
        kept: dict[str, list[Span]] = {}
        for concept, spans in found.items():
            skip = excluded.get(concept, set())
            if concept.startswith("negation") or concept in _NOT_NEGATED:
                kept[concept] = spans
                continue
            live = sorted(
                {(s, e) for s, e in spans if s not in skip and s not in before and e not in after}
            )
            if live:
                kept[concept] = live
        return kept


@dataclass(frozen=True)
class Assessment:
    categories: tuple[str, ...]

    @property
    def emergency(self) -> bool:
        return bool(self.categories)


def _near(a: Sequence[Span], b: Sequence[Span], gap: int = _NEAR) -> bool:
    return any(max(0, s2 - e1, s1 - e2) <= gap for s1, e1 in a for s2, e2 in b)


def _temperatures(words: Sequence[Word], hits: Mapping[str, list[Span]]) -> list[float]:
    """Body temperatures: 35–43.9 next to a fever or degree word, or with a decimal point."""
    context = [*hits.get("fever", ()), *hits.get("degree", ())]
    temps = []
    for i, word in enumerate(words):
        value = word.number
        if value is None or not 35 <= value < 44:
            continue
        if "." in word.cyr or _near([(i, i + 1)], context, 2):
            temps.append(value)
    return temps


def _figure_before(words: Sequence[Word], at: int) -> float | None:
    """The figure right before a unit: «3 месяца», «3-х месяцев», «2 айлық»."""
    if at >= 1 and words[at - 1].number is not None:
        return words[at - 1].number
    if at >= 2 and len(words[at - 1].cyr) <= 2 and words[at - 2].number is not None:
        return words[at - 2].number
    return None


def _infant(words: Sequence[Word], hits: Mapping[str, list[Span]], months: int = 3) -> bool:
    """A newborn, or a child of up to `months` months (4 weeks, 30 days to a month)."""
    if hits.get("newborn"):
        return True
    limits = {"month": months, "week": 4 * months, "day": 30 * months}
    age_context = [*hits.get("child", ()), *hits.get("age_suffix", ())]
    spelled = {s for s, _ in hits.get("number_word", ())}  # «два месяца»: at most 3
    for unit, limit in limits.items():
        for s, _ in hits.get(unit, ()):
            if not _near([(s, s + 1)], age_context, 3):
                continue
            figure = _figure_before(words, s)
            if figure is not None and figure <= limit:
                return True
            if figure is None and (s - 1 in spelled or _near([(s, s + 1)], age_context, 0)):
                return True  # «малышу месяц», «бір айлық», "a month old"
    return False


@dataclass(frozen=True)
class _Read:
    """One message as read: its words and where each concept was found."""

    words: Sequence[Word]
    hits: Mapping[str, list[Span]]

    def get(self, *names: str) -> list[Span]:
        return [span for name in names for span in self.hits.get(name, ())]

    def has(self, *names: str) -> bool:
        return any(self.hits.get(name) for name in names)

    def near(self, a: Sequence[str], b: Sequence[str], gap: int = _NEAR) -> bool:
        return _near(self.get(*a), self.get(*b), gap)

    @property
    def severe(self) -> bool:
        return self.has("severe")

    @property
    def minor(self) -> bool:
        return self.has("minor") and not self.severe

    @property
    def temperatures(self) -> list[float]:
        return _temperatures(self.words, self.hits)

    @property
    def infant(self) -> bool:
        return _infant(self.words, self.hits)

    @property
    def young_infant(self) -> bool:  # up to 6 months
        return _infant(self.words, self.hits, 6)


def _chest(m: _Read) -> bool:  # «сердце болит», «давит в груди», "chest pain"
    return m.near(["chest_site"], ["pain"])


def _breathing(m: _Read) -> bool:  # «тяжело дышать», «тыныс алуы қиын», «сильная одышка»
    trouble = m.near(["breath"], ["breath_trouble"], 2) and not m.near(["breath"], ["nose"], 3)
    dyspnoea = m.near(["dyspnoea"], ["severe"], 3) or (m.has("dyspnoea") and m.has("chest_site"))
    return trouble or dyspnoea  # «одышка при ходьбе» alone is a visit


def _vomit_blood(m: _Read) -> bool:  # «рвота кровью», «қан аралас жөтел», "coughing blood"
    return m.near(["vomit", "cough"], ["blood"], 3)


def _abdomen(m: _Read) -> bool:  # severe abdominal pain, or with blood
    belly_pain = m.near(["belly"], ["pain"])
    return belly_pain and (m.near(["belly", "pain"], ["severe"]) or m.has("blood"))


def _bleeding(m: _Read) -> bool:  # «кровь хлещет», «қан ағып жатыр», "blood pouring"
    # also a bleeding word right next to a severity word: «сильно кровит», «қатты қан»
    flowing = m.near(["blood"], ["blood_flow"], 2) or m.near(["blood"], ["severe"], 0)
    return flowing and not m.minor and (not m.has("benign_site") or m.severe)


def _labour(m: _Read) -> bool:  # pregnancy with bleeding, abdominal or severe pain
    return m.has("pregnant") and (
        m.has("blood") or m.near(["belly"], ["pain"]) or m.near(["pain"], ["severe"])
    )


def _infant_fever(m: _Read) -> bool:
    """An infant up to 3 months with 38+ (or no figure), up to 6 months with 39+ (the NICE
    NG143 traffic light: 0–3 months 38 °C is red, 3–6 months 39 °C amber; in doubt, 103)."""
    temps = m.temperatures
    fever = m.has("fever") or bool(temps)
    if fever and m.infant and (not temps or max(temps) >= 38):
        return True
    return bool(temps) and max(temps) >= 39 and m.young_infant


def _attack(disease: str) -> Callable[[_Read], bool]:
    """«астма ұстап қалды», «приступ эпилепсии», "asthma attack": an attack of that disease
    now (a past one is silenced by `_not_really`)."""
    return lambda m: m.near(["attack"], [disease], 3)


def _one_sided(m: _Read) -> bool:  # «бір жағы салбырап қалды», "cant move his right side"
    return m.near(["one_side"], ["limb_trouble"], 3)


def _self_harm(m: _Read) -> bool:  # «убьет себя», «себя убить», «өзін өлтіремін», "kill himself"
    return m.near(["kill"], ["self"], 1)


def _very_high_fever(m: _Read) -> bool:  # 41+, or 40+ that does not come down
    top = max(m.temperatures, default=0.0)
    return top >= 41 or (top >= 40 and m.has("not_falling"))


def _anaphylaxis(m: _Read) -> bool:
    """«отек горла», "tongue swollen"; after an allergy or a trigger (a sting, nuts, an
    injection) also a swollen face, breathing or swallowing trouble."""
    throat = m.near(["swelling"], ["throat"], 3) and not m.has("tonsils")
    allergic = m.has("allergy", "trigger") and (
        (m.has("swelling") and (m.has("face", "throat") or m.has("allergy")))
        or m.near(["breath"], ["breath_trouble"], 2)
        or m.has("swallow_trouble", "emergency.breathing")
    )
    # a swollen face or tongue that stops swallowing, with or without a known trigger
    swallowing = m.near(["swelling"], ["swallow_trouble"], 6) and not m.has("tonsils")
    return throat or allergic or swallowing


_COUNTS = ("раз", "рет", "time", "ложк", "spoon", "таблет", "tablet")  # «2 раза в день»


def _numbers_after(m: _Read, concept: str, reach: int = 4) -> list[float]:
    """The figures typed right after a concept («сахар 2.5», «давление 200 на 120»), not
    counts («сахар меряю 2 раза»)."""
    values = []
    for _, end in m.get(concept):
        window = m.words[end : end + reach + 1]
        for word, after in zip(window, (*window[1:], None), strict=False):
            counted = after is not None and (after.lat or after.cyr).startswith(_COUNTS)
            if word.number is not None and not counted:
                values.append(word.number)
    return values


def _pills(m: _Read) -> bool:
    """Pills swallowed by a child or in an amount; not «выпил таблетку от давления»."""
    accident = m.near(["accident"], ["pills"], 4)
    taken = m.near(["ingest", "accident"], ["pills"], 4)
    return (accident and m.has("child", "newborn")) or (taken and m.has("amount"))


def _chemical(m: _Read) -> bool:  # «выпил уксус», «сірке суын ішіп қойды», "drank bleach"
    return m.near(["ingest", "accident"], ["chemical"], 3)


def _bleeding_head(m: _Read) -> bool:  # «голова в крови», «басы қан», "head bleeding"
    return m.near(["head"], ["blood", "emergency.bleeding"], 2)


def _sugar(m: _Read) -> bool:  # hypo- or hyperglycaemia by the figure typed
    return any(v <= 3 or 25 <= v <= 60 for v in _numbers_after(m, "sugar", 2))


def _crisis(m: _Read) -> bool:  # a hypertensive crisis: 200 or more / 120 or more
    values = _numbers_after(m, "pressure")
    systolic = [v for v in values if v >= 60]
    return bool(systolic) and (systolic[0] >= 200 or (len(systolic) > 1 and systolic[1] >= 120))


def _fall(m: _Read) -> bool:  # a fall with a head injury or from a height
    return m.near(["fall"], ["head", "height"])


_RULES: tuple[tuple[str, Callable[[_Read], bool]], ...] = (
    ("chest", _chest),
    ("breathing", _breathing),
    ("vomit_blood", _vomit_blood),
    ("abdomen", _abdomen),
    ("bleeding", _bleeding),
    ("labour", _labour),
    ("infant_fever", _infant_fever),
    ("general", _very_high_fever),
    ("anaphylaxis", _anaphylaxis),
    ("injury", _fall),
    ("poisoning", _pills),
    ("poisoning", _chemical),
    ("injury", _bleeding_head),
    ("general", _sugar),
    ("general", _crisis),
    ("breathing", _attack("asthma")),
    ("seizure", _attack("epilepsy")),
    ("stroke", _one_sided),
    ("suicide", _self_harm),
)


# The kinds a message can say are over («кровь остановилась», «қазір жақсы», "better now");
# a stroke, chest pain or unconsciousness that passed is still for 103 (S12).
_CAN_PASS = frozenset(
    ("bleeding", "vomit_blood", "abdomen", "poisoning", "seizure", "burn", "injury")
)


def _not_really(kind: str, m: _Read) -> bool:
    """An emergency word that the rest of the message shows to be minor or long past."""
    if m.has("past") and not m.has("again"):  # «өткен жылы инсульт алған», "as a child"
        return True
    if kind in _CAN_PASS and m.has("resolved") and not m.severe:
        return True
    if kind in _CAN_PASS and m.has("habitual"):  # «ай сайын етеккір кезінде іш ауырады»
        return True
    if kind == "chest" and m.has("habitual") and not m.severe:  # «жүрегі бұрыннан ауырады»
        return True
    if kind == "chest" and m.minor and m.near(["chest_site", "pain"], ["cough"]):
        return True  # «жөтелгенде кеудем сәл ауырады», "chest hurts a little when I cough"
    if kind == "bleeding":  # «кровь из носа немного», "gums bleed a little"
        return m.minor or (m.has("benign_site") and not m.severe)
    if kind in ("burn", "injury"):  # «небольшой ожог», "a small cut"
        return m.minor
    if kind == "breathing":  # «нос не дышит»: a blocked nose
        return m.near(["emergency.breathing"], ["nose"], 2) and not m.severe
    if kind == "seizure":  # «судороги в ногах по ночам»: cramps
        return m.near(["emergency.seizure"], ["cramp_site"], 3) and not m.has("fever")
    return False


# Kazakh past participles -ған/-ген/-қан/-кен (folded: ган/ген/кан/кен) before «еді»: the
# pluperfect, «құсқан еді», «жұтып қойған сияқты еді» (it had happened, it is over); the
# converb -ып/-іп/-п before «еді/едік/едім» likewise, «ауырып еді», «жазылып едік»; and the
# habitual -атын/-етін/-йтын (folded: атин/етин/итин) before «еді» or after «бұрын» (it used
# to happen: «бұрын тұншығып қалатын»).
_PARTICIPLE = ("ган", "ген", "кан", "кен")
_CONVERB = ("ип", "уп", "п")
_HABITUAL = ("атин", "етин", "итин")


def _this_year() -> int:
    """A year typed before this one is history («2019 жылы инфаркт алған»). Kazakhstan's
    calendar year by UTC+5; read each call, so it moves on with the date."""
    return dt.datetime.now(dt.UTC).astimezone(dt.timezone(dt.timedelta(hours=5))).year


def _kazakh_past(words: Sequence[Word], at: int) -> bool:
    """The word at `at` is a Kazakh past form (see `_PARTICIPLE`)."""
    word = words[at].cyr
    edi = any(w.cyr.startswith("еди") for w in words[at + 1 : at + 3])
    if edi and word.endswith(_PARTICIPLE):
        return True
    if word.endswith(_CONVERB) and word != "деп" and at + 1 < len(words):
        return words[at + 1].cyr.startswith("еди")  # «қан кетіп еді», not «деп едім»
    return word.endswith(_HABITUAL) and (edi or any(w.cyr == "бурин" for w in words[:at]))


def _grammatical_past(words: Sequence[Word]) -> list[Span]:
    spans = []
    this_year = _this_year()
    for at, word in enumerate(words):
        if word.number is not None:
            if word.number.is_integer() and 1930 <= word.number < this_year:
                spans.append((at, at + 1))
            continue
        if _kazakh_past(words, at):
            spans.append((at, at + 1))
    return spans


def _combine(
    words: Sequence[Word], hits: Mapping[str, list[Span]], history: bool = True
) -> list[str]:
    """The emergency kinds; with `history` false, past markers are not read (see `assess`)."""
    if not history:
        hits = {k: v for k, v in hits.items() if k != "past"}
    past = _grammatical_past(words) if history else []
    if past:
        hits = {**hits, "past": [*hits.get("past", ()), *past]}
    m = _Read(words, hits)
    found = {c for c in CATEGORIES if m.has(f"emergency.{c}")}
    found |= {kind for kind, rule in _RULES if rule(m)}
    found = {c for c in found if not _not_really(c, m)}
    if "general" in found and m.infant:
        found.add("infant_fever")
    return sorted(found, key=CATEGORIES.index)


_RECOGNISER = Recogniser(load_lexicon())


def _present_parts(words: Sequence[Word], hits: Mapping[str, list[Span]]) -> list[Sequence[Word]]:
    """The parts of a message that say what is happening now: from each «қазір», «сейчас»,
    "now" to the next past marker. «Былтыр инфаркт болған, қазір кеудесі қатты қысып тұр»:
    the history does not silence the chest pain told after «қазір»."""
    pasts = sorted(s for s, _ in hits.get("past", ()))
    parts = []
    for start, _ in sorted(hits.get("now", ())):
        end = next((s for s in pasts if s > start), len(words))
        parts.append(words[start:end])
    return parts


def assess(text: str) -> Assessment:
    """Which emergency kinds the message names (none: an ordinary message)."""
    words = _words(text[:2000])
    if not words:
        return Assessment(())
    hits = _RECOGNISER.spans(words)
    found = _combine(words, hits)
    if not found:  # a past or passed event may have silenced what is told as present
        for part in _present_parts(words, hits):
            part_hits = _RECOGNISER.spans(part)
            found = _combine(part, part_hits)
            if not found and part_hits.get("severe") and not part_hits.get("resolved"):
                # the present part goes on with the story, severe: «қатты қан кетіп еді,
                # қазір де тоқтамай жатыр» (it bled, and it still does): read it all as now
                found = _combine(words, hits, history=False)
            if found:
                break
    return Assessment(tuple(found))


def looks_like_emergency(text: str) -> bool:
    """True when the message names an emergency sign: show 103, queue nothing (S12, R-38)."""
    return assess(text).emergency
