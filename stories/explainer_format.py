"""Reading explainers written in the plain-text format readers see.

A document is a series of fixed headings, in order, each followed by its
text. This module only parses; turning a parsed document into rows is
``services.import_explainer``.
"""

import hashlib
import re
import unicodedata
from dataclasses import dataclass, field

from .text import fold, is_capitalised, outlet_key

MAX_DOCUMENT_BYTES = 2 * 1024 * 1024
MAX_TITLE_CHARS = 150
MAX_TITLE_WORDS = 20
MAX_QUESTION_CHARS = 300

# (key, heading as written); the order is the format's.
HEADINGS = [
    ("summary", "What's happened"),
    ("sections", "What's behind the headline?"),
    ("papers", "What the papers say"),
    ("background", "How we got here"),
    ("faqs", "Go deeper"),
    ("entities", "More on these topics"),
]
_HEADING_BY_KEY = {fold(title): key for key, title in HEADINGS}
_TITLE_BY_KEY = dict(HEADINGS)
_BULLETS = {"-", "\u2013", "\u2014", "\u2022", "*"}
_FAQ_LABELS = {"common question", "common questions"}
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
# Only these break lines; str.splitlines() would also split at \x0b, \x1c or
# U+2028, hiding control characters and shifting line numbers.
_LINE_BREAK = re.compile(r"\r\n|\r|\n")
_TERMINAL = re.compile(r"[.!?\u2026][\"'\u201d\u2019)\]]*$")
# Free text in which a line may repeat an earlier heading ("What's happened?").
_FREE_TEXT_BLOCKS = {"faqs", "entities"}


class MalformedDocument(ValueError):
    """The document is not in the explainer format; nothing was imported."""

    def __init__(self, message: str, line: int | None = None):
        self.message = message
        self.line = line
        super().__init__(f"line {line}: {message}" if line else message)


@dataclass
class Line:
    number: int
    text: str


@dataclass
class ParsedSection:
    heading: str
    paragraphs: list[str]


@dataclass
class ParsedQuestion:
    question: str
    paragraphs: list[str]
    line: int


@dataclass
class ParsedTopic:
    name: str
    paragraphs: list[str]
    line: int
    was_truncated: bool = False


@dataclass
class ParsedExplainer:
    summary: str
    sections: list[ParsedSection]
    papers: list[str]
    background: list[str]
    questions: list[ParsedQuestion]
    topics: list[ParsedTopic]
    checksum: str
    warnings: list[str] = field(default_factory=list)
    # The line each of papers starts on, for warnings about a paragraph.
    paper_lines: list[int] = field(default_factory=list)


def _split_lines(text: str) -> list[str]:
    lines = _LINE_BREAK.split(text)
    return lines[:-1] if lines[-1] == "" else lines


def decode(raw: bytes) -> str:
    """The document's text, or MalformedDocument naming the first bad line."""
    if not raw.strip():
        raise MalformedDocument("the file is empty")
    if len(raw) > MAX_DOCUMENT_BYTES:
        raise MalformedDocument(
            f"the file is {len(raw):,} bytes; the limit is {MAX_DOCUMENT_BYTES:,}"
        )
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = len(_LINE_BREAK.split(raw[: error.start].decode("latin-1")))
        raise MalformedDocument(
            f"the file is not valid UTF-8 (byte 0x{raw[error.start]:02x})", line
        ) from None
    for number, line_text in enumerate(_split_lines(text), start=1):
        if _CONTROL.search(line_text):
            raise MalformedDocument("the line contains a control character", number)
    return text


def parse(raw: bytes) -> ParsedExplainer:
    text = decode(raw)
    # split() also treats U+0085, U+2028 and U+2029 as spaces.
    written = [" ".join(line_text.split()) for line_text in _split_lines(text)]
    # The checksum is of the text as written, so documents imported before
    # normalisation are still recognised.
    checksum = hashlib.sha256(
        "\n".join(line for line in written if line).encode()
    ).hexdigest()
    # One spelling of every accented letter: "E" plus a combining accent would
    # otherwise split "\u00c9quipe" into two words and match nothing.
    lines = [
        Line(number, unicodedata.normalize("NFC", line))
        for number, line in enumerate(written, start=1)
    ]
    blocks = _split_into_blocks(lines)
    summary_lines = blocks["summary"]
    if not summary_lines:
        raise MalformedDocument(
            f"\u201c{_TITLE_BY_KEY['summary']}\u201d has no text",
            blocks["_heading_lines"]["summary"],
        )
    warnings: list[str] = []
    return ParsedExplainer(
        summary="\n".join(line.text for line in summary_lines),
        sections=_parse_sections(
            blocks["sections"], blocks["_heading_lines"]["sections"]
        ),
        papers=[line.text for line in blocks["papers"]],
        paper_lines=[line.number for line in blocks["papers"]],
        background=[line.text for line in blocks["background"]],
        questions=_parse_questions(blocks["faqs"]),
        topics=_parse_topics(blocks["entities"], warnings),
        checksum=checksum,
        warnings=warnings,
    )


def _split_into_blocks(lines: list[Line]) -> dict:
    order = [key for key, _ in HEADINGS]
    blocks: dict = {key: [] for key in order}
    heading_lines: dict[str, int] = {}
    current = None
    for line in lines:
        if not line.text:
            continue
        key = _HEADING_BY_KEY.get(fold(line.text))
        if key in heading_lines and current in _FREE_TEXT_BLOCKS:
            key = None
        if key is not None:
            if key in heading_lines:
                raise MalformedDocument(
                    f"the heading \u201c{_TITLE_BY_KEY[key]}\u201d appears twice "
                    f"(first on line {heading_lines[key]})",
                    line.number,
                )
            expected = order[len(heading_lines)]
            if key != expected:
                raise MalformedDocument(
                    f"the heading \u201c{_TITLE_BY_KEY[expected]}\u201d is missing "
                    f"or out of order: the format puts it before "
                    f"\u201c{_TITLE_BY_KEY[key]}\u201d",
                    line.number,
                )
            heading_lines[key] = line.number
            current = key
            continue
        if current is None:
            raise MalformedDocument(
                f"text before the first heading \u201c{_TITLE_BY_KEY['summary']}\u201d",
                line.number,
            )
        blocks[current].append(line)
    missing = [key for key in order if key not in heading_lines]
    if missing:
        last = lines[-1].number if lines else 1
        raise MalformedDocument(
            "missing the heading"
            + ("s " if len(missing) > 1 else " ")
            + ", ".join(f"\u201c{_TITLE_BY_KEY[key]}\u201d" for key in missing),
            last,
        )
    blocks["_heading_lines"] = heading_lines
    return blocks


_CLOSERS = "\"'\u201d\u2019)]"
_QUOTE_AFTER_COLON = re.compile(r":\s*[\"'\u201c\u2018]")
_INITIALISM = re.compile(r"\b(?:[A-Za-z]\.){2,}$")


def _looks_like_title(text: str) -> bool:
    if len(text) > MAX_TITLE_CHARS or len(text.split()) > MAX_TITLE_WORDS:
        return False
    if _QUOTE_AFTER_COLON.search(text) or len(split_sentences(text)) > 1:
        return False
    bare = text.rstrip(_CLOSERS)
    # "Why Tokyo leans on the U.S." ends in an abbreviation, not a full stop.
    return bool(_INITIALISM.search(bare)) or not bare.endswith(
        (".", ",", ";", ":", "\u2026")
    )


def _parse_sections(lines: list[Line], heading_line: int) -> list[ParsedSection]:
    """Titled sub-sections: a short title line, then one or more paragraphs."""
    if not lines:
        raise MalformedDocument(
            f"\u201c{_TITLE_BY_KEY['sections']}\u201d has no sections", heading_line
        )
    sections: list[ParsedSection] = []
    title_line = None
    for line in lines:
        starts_section = not sections or (
            sections[-1].paragraphs and _looks_like_title(line.text)
        )
        if starts_section:
            if not _looks_like_title(line.text):
                raise MalformedDocument(
                    "expected a section title (a short line without a full stop) "
                    "before this paragraph",
                    line.number,
                )
            sections.append(ParsedSection(heading=line.text, paragraphs=[]))
            title_line = line.number
        else:
            sections[-1].paragraphs.append(line.text)
    if not sections[-1].paragraphs:
        if len(sections) == 1:
            heading = sections[-1].heading
            raise MalformedDocument(
                f"the section \u201c{heading}\u201d has no text", title_line
            )
        # A short closing line only looked like a title: nothing follows it.
        sections[-2].paragraphs.append(sections.pop().heading)
    return sections


def _is_bullet(text: str) -> bool:
    return text in _BULLETS


def _parse_questions(lines: list[Line]) -> list[ParsedQuestion]:
    questions: list[ParsedQuestion] = []
    expecting_question = False
    for line in lines:
        if fold(line.text) in _FAQ_LABELS:
            continue
        if _is_bullet(line.text):
            expecting_question = True
            continue
        if expecting_question or not questions:
            if len(line.text) > MAX_QUESTION_CHARS:
                raise MalformedDocument(
                    f"the question is longer than {MAX_QUESTION_CHARS} characters",
                    line.number,
                )
            questions.append(ParsedQuestion(line.text, [], line.number))
            expecting_question = False
        else:
            questions[-1].paragraphs.append(line.text)
    for question in questions:
        if not question.paragraphs:
            raise MalformedDocument(
                f"the question \u201c{question.question}\u201d has no answer",
                question.line,
            )
    return questions


_NAME = re.compile(
    r"^(?P<name>[^\s,(][^,(]*?)\s*(?:\(|,|\s(?:is|was|are|were|has|had|serves|served)\b)"
)


def _parse_topics(lines: list[Line], warnings: list[str]) -> list[ParsedTopic]:
    """Blurbs separated by "-" lines; each names its topic in its first words."""
    blurbs: list[list[Line]] = []
    for line in lines:
        if _is_bullet(line.text):
            blurbs.append([])
        elif not blurbs:
            blurbs.append([line])
        else:
            blurbs[-1].append(line)
    topics = []
    for blurb in blurbs:
        if not blurb:
            continue
        paragraphs, truncated = whole_sentences([line.text for line in blurb])
        match = _NAME.match(blurb[0].text)
        name = match.group("name").strip() if match else ""
        if (
            not name
            or len(name.split()) > 8
            or len(name) > 200
            or not name[0].isupper()
        ):
            warnings.append(
                f"line {blurb[0].number}: could not tell which topic this blurb is "
                "about; it was skipped"
            )
            continue
        if not paragraphs:
            warnings.append(
                f"line {blurb[0].number}: the blurb about {name} has no complete "
                "sentence; the topic is linked without a description"
            )
        topics.append(ParsedTopic(name, paragraphs, blurb[0].number, truncated))
    return topics


def whole_sentences(paragraphs: list[str]) -> tuple[list[str], bool]:
    """paragraphs cut after their last complete sentence, and whether any text
    was dropped (a blurb cut off mid-word)."""
    if not paragraphs or _TERMINAL.search(paragraphs[-1]):
        return list(paragraphs), False
    kept = paragraphs[:-1]
    # Sentences split at terminal punctuation, so only the last can be cut off.
    complete = [s for s in split_sentences(paragraphs[-1]) if _TERMINAL.search(s)]
    if complete:
        kept.append(" ".join(complete))
    return kept, True


_ABBREVIATION = re.compile(
    r"(?:\b(?:[A-Za-z]\.){1,4}|\b(?:Mr|Mrs|Ms|Dr|Prof|St|Gen|Sen|Rep|Gov|Lt|Col|"
    r"Capt|Sgt|Jr|Sr|No|Nos|vs|etc|Inc|Corp|Co|Ltd|Jan|Feb|Mar|Apr|Jun|Jul|Aug|"
    r"Sep|Sept|Oct|Nov|Dec)\.)$"
)
_SENTENCE_END = re.compile(
    r"[.!?][\"'\u201d\u2019)]*\s+(?=[\"'\u201c\u2018(]?[A-Z0-9])"
)


def split_sentences(text: str) -> list[str]:
    """Sentences of text, not split after abbreviations such as "U.S."."""
    sentences, start = [], 0
    for match in _SENTENCE_END.finditer(text):
        head = text[start : match.start() + 1]
        if _ABBREVIATION.search(head):
            continue
        sentences.append(text[start : match.end()].strip())
        start = match.end()
    tail = text[start:].strip()
    if tail:
        sentences.append(tail)
    return sentences


# Words of a sentence; "&" counts as one so "Mail & Guardian" can be spelled out.
_WORD = re.compile(r"[^\W_][\w.&'\u2019-]*|&")
# Lower-case words that join the capitalised words of outlet names
# ("Folha de S.Paulo", "Corriere della Sera").
_JOINERS = frozenset(
    "of the de da do du la le el des del della der die di y dos das van von "
    "\u03c4\u03b7\u03c2 \u03c4\u03bf\u03c5 \u03c4\u03c9\u03bd".split()
)
# Sentence openers that may precede a name in one run: "While Le Monde ...".
_OPENERS = frozenset(
    "Meanwhile While Whereas Both Like Unlike But And Yet In As According Even "
    "Only Also However Similarly By From".split()
)
_MAX_OPENERS = 3
# Some names go on past their capitalised words ("Česká televize",
# "Il Sole 24 Ore", "The Globe and Mail"): a run is also tried with up to this
# many of the words after it.
_MAX_EXTRA_WORDS = 5
# Words that make an unknown name read like an outlet's ("Harbour Times said").
_OUTLET_WORDS = frozenset(
    "Times Post News Journal Herald Daily Tribune Gazette Press Telegraph Mail "
    "Express Chronicle Observer Review Radio TV Television Broadcasting Agency "
    "Magazine Monitor Sun Mirror Standard Insider Wire Today Courier Dispatch "
    "Examiner Inquirer Ledger Sentinel Bulletin Weekly Channel Network FM Online "
    "Media Zeitung Presse Rundschau Kurier Anzeiger Tagblatt Allgemeine Nachrichten "
    "Courrier Nouvelles Gazzetta Giornale Corriere Quotidiano Messaggero Stampa "
    "Diario Di\u00e1rio Peri\u00f3dico Prensa Noticias Not\u00edcias Jornal Folha "
    "Correio Gazeta Krant Dagblad Nieuws Avis Avisen Tidning Tidningen Shimbun "
    "Ilbo Pravda Vesti Izvestia Agence Agencia Ag\u00eancia Televisi\u00f3n "
    "Televis\u00e3o T\u00e9l\u00e9vision Rundfunk".split()
)
# A capitalised article opening a name reads like a title ("L\u2019\u00c9quipe",
# "El Tiempo", "Die Zeit", "Al-Ahram"), which a person's name seldom does.
_ARTICLE_OPENING = re.compile(
    r"^(?:(?:[LD]|Dell)['\u2019](?=\w)|(?:Le|La|Les|El|Los|Las|Il|Lo|Gli|Der|Die|Das|"
    r"Het)[ -](?=\w))"
)
# "Marca's coverage", "L\u2019\u00c9quipe\u2019s front page": nouns only an outlet's
# possessive takes ("Trump's story" is not coverage).
_COVERAGE_NOUN = re.compile(
    r"\s+(?:own\s+)?(?:coverage|editorials?|headlines?|front\s+page|columnists?|"
    r"correspondents?|op-eds?|editors?|newsroom|readers)\b"
)
# "Marca, the Madrid sports daily, ...": an apposition naming the kind of outlet.
_OUTLET_APPOSITION = re.compile(
    r"\s*,\s+(?:a|an|the)\s+(?:[\w'\u2019-]+\s+){0,2}?(?:daily|newspaper|paper|"
    r"broadcaster|outlet|magazine|tabloid|weekly|agency|channel|network|website|"
    r"site|wire|publication|radio|station|broadsheet)\b",
    re.IGNORECASE,
)
_LATIN = re.compile(r"[A-Za-z\u00c0-\u024f]")
_COVERAGE_LIST = re.compile(
    r"\b(?:articles?|reports?|reporting|coverage|stories|pieces|outlets|sources|"
    r"papers|newspapers|editorials?|columns?|accounts?)\s+(?:from|by|in)\s+",
    re.IGNORECASE,  # also "Articles from X" opening a sentence
)
_LIST_GLUE = re.compile(r"\s*(?:,\s*(?:and\s+)?|\s+and\s+|\s*,?\s*as well as\s+)")
_REPORTING_VERB = re.compile(
    r"\s+(?:[a-z]+ly\s+)?(?:said|says|wrote|writes|(?:report|note|emphasi[sz]e|"
    r"highlight|argue|capture|frame|focus|describe|portray|suggest|warn|stress|"
    r"point|underscore|detail|cover|observe|claim|contend|characteri[sz]e|depict|"
    r"call|question|quote|cite|reveal|allege|analy[sz]e|explain|praise|"
    r"critici[sz]e|accuse|predict|add|conclude|state|insist|caution|welcome)"
    r"(?:s|es|d|ed)?)\b"
)


def _clean_candidate(text: str) -> str:
    text = re.sub(r"['\u2019]s$", "", text)
    return text.rstrip(".,;:'\u2019")


def _is_possessive(word: str) -> bool:
    return word.endswith(("'s", "\u2019s", "'", "\u2019"))


@dataclass
class _Sentence:
    text: str
    words: list  # re.Match for each word
    # Where the last reporting verb starts, -1 if there is none.
    last_verb: int

    @classmethod
    def of(cls, text: str) -> "_Sentence":
        verbs = [match.start() for match in _REPORTING_VERB.finditer(text)]
        return cls(text, list(_WORD.finditer(text)), verbs[-1] if verbs else -1)

    def spaced(self, left: int, right: int) -> bool:
        """Whether only spaces separate words[left] and words[right]."""
        words = self.words
        return self.text[words[left].end() : words[right].start()].isspace()

    def span(self, first: int, last: int) -> str:
        return self.text[self.words[first].start() : self.words[last].end()]

    def runs(self) -> list[tuple[int, int]]:
        """(first, last) word of each run of capitalised words and joiners; a
        possessive ends a run, so "Iran's Guardian Council" is two runs."""
        runs, first, last = [], None, None
        for index, word in enumerate(self.words):
            chained = (
                first is not None
                and self.spaced(index - 1, index)
                and not _is_possessive(self.words[last].group())
            )
            if chained and is_capitalised(word.group()):
                last = index
            elif chained and word.group() in _JOINERS:
                continue
            else:
                if first is not None:
                    runs.append((first, last))
                first = last = index if is_capitalised(word.group()) else None
        if first is not None:
            runs.append((first, last))
        return runs

    def listed(self, runs: list[tuple[int, int]]) -> dict[int, int]:
        """The runs listed as coverage ("articles from X and Y"): first word
        to last. An item may go on in lower case up to the glue after it
        ("Novaya gazeta, Reuters and ..." in scripts that capitalise only a
        name's first word)."""
        run_at = {self.words[first].start(): (first, last) for first, last in runs}
        listed = {}
        for match in _COVERAGE_LIST.finditer(self.text):
            position = match.end()
            while (run := run_at.get(position)) is not None:
                first, last = run
                listed[first] = last
                glue = _LIST_GLUE.match(self.text, self.words[last].end())
                end = last
                while glue is None and end < self.reach(last):
                    end += 1
                    word = self.words[end].group()
                    # English capitalises every word of a Latin-script
                    # title; Cyrillic or Greek ones only their first.
                    if not word[0].islower() or _LATIN.search(word):
                        break
                    glue = _LIST_GLUE.match(self.text, self.words[end].end())
                    if glue:
                        listed[first] = end
                if not glue:
                    break
                position = glue.end()
        return listed

    def reach(self, last: int) -> int:
        """The furthest word a name ending at words[last] could run on to."""
        end = last
        while (
            end + 1 < len(self.words)
            and end - last < _MAX_EXTRA_WORDS
            and self.spaced(end, end + 1)
            and not _is_possessive(self.words[end].group())
        ):
            end += 1
        return end


def _described(sentence: _Sentence, last: int) -> bool:
    """Whether the words after the run say it is an outlet ("X, the Paris
    daily", "X's coverage")."""
    end = sentence.words[last].end()
    return bool(_OUTLET_APPOSITION.match(sentence.text, end)) or (
        _is_possessive(sentence.words[last].group())
        and bool(_COVERAGE_NOUN.match(sentence.text, end))
    )


def _resolve(sentence: _Sentence, first: int, last: int, lookup, listed: bool):
    """(outlet, index of its last word) for the outlet the run names, or None.

    The whole run must be the name, perhaps after sentence openers, a leading
    "The" or a possessive; "Capitol Hill" does not name The Hill.
    """
    words = sentence.words
    for start in range(first, min(last, first + _MAX_OPENERS) + 1):
        if start > first and words[start - 1].group() not in _OPENERS:
            break
        after_the = (
            start > 0
            and words[start - 1].group() == "the"
            and sentence.spaced(start - 1, start)
        )
        for end in range(sentence.reach(last), last - 1, -1):
            written = _clean_candidate(sentence.span(start, end))
            name = written.removeprefix("The ")
            outlet = lookup(name) if name else None
            if outlet is None:
                continue
            # One-word names that are also ordinary words ("Time", "Dawn",
            # "Independent") need the context of an outlet.
            if (
                # "An Independent candidate": one word without its article.
                len(outlet_key(name).split()) > 1
                or name.isupper()
                or after_the
                or name != written  # written as "The ..."
                or _ARTICLE_OPENING.match(written)  # "L\u2019\u00c9quipe", "El Tiempo"
                or listed
                or sentence.last_verb >= words[end].end()
                or _described(sentence, end)
            ):
                return outlet, end
    return None


def _reads_like_outlet(name: str) -> bool:
    """Whether a name that matches no outlet still looks like one's."""
    words = {word.strip(".,'\u2019") for word in name.split()}
    return (
        name.startswith("The ")
        or bool(_OUTLET_WORDS & words)
        or bool(_ARTICLE_OPENING.match(name))
    )


def _unmatched_name(
    sentence: _Sentence, first: int, last: int, listed: bool, elsewhere: str
) -> str:
    """The run's name if an outlet is expected there but none matched, else ""."""
    while first < last and sentence.words[first].group() in _OPENERS:
        first += 1
    name = _clean_candidate(sentence.span(first, last))
    # A name the rest of the story also uses ("Le Pen said", "reports from
    # Kyiv") is about the news, not its coverage.
    if _mentions(elsewhere, name):
        return ""
    if listed or _described(sentence, last):
        return name
    if not _REPORTING_VERB.match(sentence.text, sentence.words[last].end()):
        return ""
    # "Trump said" is not about an outlet; "The Daily Planet said" and
    # "L\u2019\u00c9quipe reported" may be.
    if not _reads_like_outlet(name):
        return ""
    return name


def _mentions(text: str, name: str) -> bool:
    return (
        bool(text) and re.search(rf"(?<!\w){re.escape(name)}(?!\w)", text) is not None
    )


@dataclass
class OutletMentions:
    # outlet -> its sentences, in order of first mention
    sentences: dict
    unmatched: list[str]
    # Indexes of the paragraphs that name no outlet, known or not.
    without_outlet: list[int] = field(default_factory=list)


def find_outlet_mentions(
    paragraphs: list[str], lookup, *, elsewhere: str = ""
) -> OutletMentions:
    """Which outlets the text names, and the sentences about each.

    lookup(name) returns an outlet or None. Names that appear where an outlet
    is expected ("articles from X", "X reports", "X, the Paris daily") but
    match none are returned as unmatched, so the importer can add them to the
    registry. elsewhere is the rest of the story: a name it also uses is a
    person or place, not an outlet. paragraphs are read as parse() gives
    them, in NFC.
    """
    sentences: dict = {}
    unmatched: list[str] = []
    without_outlet: list[int] = []
    for index, paragraph in enumerate(paragraphs):
        named = False
        for text in split_sentences(paragraph):
            sentence = _Sentence.of(text)
            runs = sentence.runs()
            listed = sentence.listed(runs)
            covered = -1  # last word of the last outlet's name
            for first, last in runs:
                if first <= covered:
                    continue
                found = _resolve(sentence, first, last, lookup, first in listed)
                if found is None:
                    name = _unmatched_name(
                        sentence,
                        first,
                        max(last, listed.get(first, last)),
                        first in listed,
                        elsewhere,
                    )
                    if name:
                        named = True
                        if name not in unmatched:
                            unmatched.append(name)
                    continue
                named = True
                outlet, covered = found
                mentioned = sentences.setdefault(outlet, [])
                if text not in mentioned:
                    mentioned.append(text)
        if not named:
            without_outlet.append(index)
    return OutletMentions(
        sentences=sentences, unmatched=unmatched, without_outlet=without_outlet
    )
