"""Synthetic CIN census returns: realistic, deterministic, and made up from nothing.

`generate(children, seed, year, error_rate)` builds a whole return for one supported collection
year out of a seeded pseudo-random stream (`random.Random(seed)`; no clock, no hash ordering), so
the same arguments always give the same bytes. Every name, date and identifier is invented: no
real person's data is used or can appear. The Header DateTime is fixed by the year (15 April after
the ReferenceDate).

A clean return (error_rate 0) is meant to give no finding at all, from the schema stage or from
any rule of its year. With error_rate R, about R of the children each carry one deliberate breach
drawn from the catalogue below, and `Synthetic.breaches` lists every finding those breaches must
raise (one entry per expected finding: kind, DfE code or "SCHEMA", LAchildID, description).

Proportions (chosen to look like a local authority's return; all are per child or per episode)
------------------------------------------------------------------------------------------------
* Children: 2% unborn (ExpectedPersonBirthDate 1 March to 31 December of the ReferenceDate's year,
  mostly after 31 March; Sex U / GenderCurrent 0, UPNunknown UN1, no disabilities). Born children
  by age on the ReferenceDate: under 1 6%, 1-4 19%, 5-9 26%, 10-15 37%, 16-17 11%, 18 1%. About
  0.25% die in the year (single episode closed RC2 on or soon after the death date).
* Sex M 52% / F 47.5%, U (GenderCurrent 0 in 2023-24, where 9 is also used, 0.2%) at most 0.5%
  and never more than 2% of the born children counted so far (rule 2886Q).
* Ethnicity close to the national CIN spread: WBRI 58%, WOTH 7%, BAFR 4.5%, APKN 3.5%, MWBC 3%,
  MOTH 3%, NOBT 2.5%, OOTH 2.5%, and every other code at 0.3-2%.
* UPN: 93% of children aged 5 or over, 60% at 4, 8% at 2-3, none younger; LA code that of the
  return 85% of the time (else another valid LA code); check letter computed as DfE does; 3%
  temporary (letter in position 13); 1% also have a FormerUPN. Children without a UPN get UN1
  below school age, UN2-UN6 at school age (the year's 8770Q test), and UN7 (half of the time)
  when every episode was NFA.
* Disabilities on born children with a non-NFA episode: NONE 86%, else one to three codes; all-NFA
  children have NONE or no Disabilities group. The return always uses 8+ codes other than NONE
  with some child having two (2887Q, 2888Q): a tiny return gives its last child the missing ones.
* Episodes per child: one, two or three drawn 70/22/8%; as an open episode ends the sequence and
  the year runs out, returns hold about 84% one, 14% two, 2% three. 8% of referrals are drawn NFA
  (about 6% of episodes; closed the same day or within three days, RC7). 30% of first episodes
  were opened before the census period (a CIN plan or child protection plan running on 1 April, or
  an assessment authorised after it). 45% of a child's final non-NFA episodes may stay open;
  about 44% of all episodes are open at the ReferenceDate.
* Referral sources: police 29%, schools 20%, health 14%, LA services 13%, family/individuals 9%,
  others the rest. Primary need: N1 50%, N5 14%, N2 9%, N4 9%, N9 6%, N3 4%, N8 3%, N0 2.5%.
* Episode paths (episodes starting in the period): section 47 enquiry 22%, assessment then closed
  RC8/RC9 30%, assessment then CIN plan 38%, assessment then closed otherwise 8%, transfer-in with
  an episode-level ICPC and a protection plan 2%. 8% of CIN plans step up to a section 47 and a
  protection plan.
* Assessments start 0-10 working days after the referral; 70% are drawn to take 10-45 working
  days, 15% fewer, 15% 46-80 (about 87% are authorised within 45); none is left unauthorised past
  45 working days at the ReferenceDate (8670Q).
  1-4 factors from the current list (8B-8F and 24A included; never 8A, 18A or 19A); factor 21 only
  alone, and only on single-assessment episodes closed RC8/RC9 (45% of those).
* Section 47: 72% go to an ICPC, 82% of those drawn within 5-15 working days (others 16-25), held on
  a working day; the InitialCPCtarget (90% recorded) is 15 working days after the start. 78% of ICPCs start a
  child protection plan on the ICPC date (rule 2885); the rest lead to a CIN plan or closure. An
  enquiry still waiting for its ICPC at the ReferenceDate is at most 15 working days old.
* Child protection plans: first review 50-85 days after the start, then every 165-190 days (reviews
  in the census period only; 75% of ended plans have a review on their last day), NumberOfPreviousCPP
  0 75%, 1 17%, 2 6%, 3 2%; 55% of ended plans step down to a CIN plan starting the day they end.
  CIN plans and protection plans never overlap, nor do a child's plans of one kind.
* 2026-27: a PreProceedingsandFGDM block on 35% of episodes with a protection plan and 4% of those
  with only a CIN plan, its dates in order and in the census period (8995Q-9015Q).

Breach catalogue (error_rate > 0): each breach names the findings it must raise
------------------------------------------------------------------------------
About R of the children get a breach (a child none of the kinds fits is left alone, which is
rare). The kind is drawn, by weight, among those that fit the child; kinds needing rarer records
(plans, pre-proceedings, unborn children) weigh more, so that every kind turns up in a few hundred
children, and schema-only breaches make up about 15% of them. The duplicate breaches (8510, 1520)
copy the LAchildID or UPN of the child before, so they give a finding on both children.
Rule breaches: missing PrimaryNeedCode (8610), invalid PrimaryNeedCode (8650), ReferralSource
(8866), ReasonForClosure (8640), missing ReasonForClosure (8805), closure before referral (8630),
assessment authorised before it started (8608), assessment before the referral (1103), section 47
before the referral (2889), ICPC on a weekend (8875), ICPC target on a weekend (8870Q), plan with
no matching ICPC (2885), CIN plan overlapping a protection plan (4016, 4017), CIN plan ending before
it starts (4011), protection plan ending before it starts (8925), review on the plan's start day
(8841), repeated factor (8898), factor 21 with others (8869, plus 8873Q when it applies), factors on
an unauthorised assessment (8614), assessment open too long (8670Q), ICPC overdue (8675Q), episodes
overlapping (8820), duplicated LAchildID (8510, one finding on each child), missing LAchildID (8500),
LAchildID too long (1570) or not alphanumeric (1580) from 2024-25, UPN check letter (1510), LA code (1530), a
letter inside the digits (1540), duplicated UPN (1520, both children), badly formed FormerUPN
(1560Q), invalid ethnicity (4220), sex/gender (4180), unborn child not Sex U (8750), disabilities
NONE with another code (8790, one per other code), repeated (8794), invalid or missing (8540),
UN7 with a non-NFA episode (8772), school-age child with UN1 (8770Q), wrong-case or missing
ReferralNFA (8568), invalid category of abuse (8905, 8910), empty NumberOfPreviousCPP (8730), and in
2026-27 letter before proceedings before the start (9006), no FGDM offer (9007), no FGDM facilitated
flag (9010Q), invalid PPOutcome (9011), court application before the decision (9012), no review
meetings count (9015Q). Where a rule also reports the element's schema breach, the schema message
folds into the rule finding, so only the rule is listed.
Schema-only breaches (code SCHEMA): an invalid date (2024-02-30 style, or dd/mm/yyyy) in a review
date or an assessment's internal review date, two elements out of order, a UPN one character
short, and the other year's gender element added beside the right one.
"""

from __future__ import annotations

import json
import random
from bisect import bisect_right
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from . import __version__
from .calendar import is_working_day
from .years import SUPPORTED, CollectionYear, parse_year

# ------------------------------------------------------------------------------------------------
# Reference data (the year's code lists, as in the XSDs and the ruleset's la_codes)

_LA_RANGES = (
    (1, 5), (201, 213), (301, 320), (330, 336), (340, 344), (350, 359), (370, 373), (380, 384),
    (390, 394), (420, 420), (660, 681), (701, 708), (800, 803), (805, 808), (810, 813), (815, 816),
    (820, 823), (825, 826), (830, 831), (835, 841), (845, 846), (850, 852), (855, 857), (860, 861),
    (865, 896), (908, 909), (916, 916), (919, 919), (921, 921), (925, 926), (928, 929), (931, 931),
    (933, 933), (935, 938), (940, 943),
)
LA_CODES = tuple(f"{n:03d}" for lo, hi in _LA_RANGES for n in range(lo, hi + 1))
_NOT_LA_CODES = ("000", "100", "214", "321", "600", "699", "804", "999")

_UPN_ALPHABET = "ABCDEFGHJKLMNPQRTUVWXYZ"  # A-Z without I, O and S
_UPN_VALUE = {**{str(d): d for d in range(10)}, **{ch: i for i, ch in enumerate(_UPN_ALPHABET)}}


def upn_check_letter(rest: str) -> str:
    """The check letter for UPN characters 2-13 (weights 2..13, modulo 23)."""
    total = 0
    for weight, char in enumerate(rest, start=2):
        total += weight * _UPN_VALUE[char]
    return _UPN_ALPHABET[total % 23]


class _Table:
    """Codes with weights, drawn with one random number."""

    __slots__ = ("codes", "cum", "total")

    def __init__(self, pairs):
        self.codes = [code for code, _ in pairs]
        self.cum, total = [], 0.0
        for _, weight in pairs:
            total += weight
            self.cum.append(total)
        self.total = total

    def draw(self, rng: random.Random):
        return self.codes[bisect_right(self.cum, rng.random() * self.total)]


ETHNICITY = _Table([
    ("WBRI", 58), ("WIRI", 0.6), ("WIRT", 0.3), ("WOTH", 7), ("WROM", 0.6), ("MWBC", 3),
    ("MWBA", 1.2), ("MWAS", 1.5), ("MOTH", 3), ("AIND", 1.5), ("APKN", 3.5), ("ABAN", 1.5),
    ("AOTH", 2), ("BCRB", 1.5), ("BAFR", 4.5), ("BOTH", 1.2), ("CHNE", 0.3), ("OOTH", 2.5),
    ("REFU", 0.5), ("NOBT", 2.5),
])
REFERRAL_SOURCE = _Table([
    ("1A", 5), ("1B", 1), ("1C", 2), ("1D", 1), ("2A", 20), ("2B", 1), ("3A", 3), ("3B", 2),
    ("3C", 1), ("3D", 3), ("3E", 3), ("3F", 2), ("4", 2), ("5A", 4), ("5B", 3), ("5C", 3),
    ("5D", 3), ("6", 29), ("7", 2), ("8", 4), ("9", 1), ("10", 2),
])
PRIMARY_NEED = _Table([
    ("N1", 50), ("N2", 9), ("N3", 4), ("N4", 9), ("N5", 14), ("N6", 2), ("N7", 0.5), ("N8", 3),
    ("N9", 6), ("N0", 2.5),
])
DISABILITY = _Table([
    ("AUT", 25), ("BEH", 18), ("COMM", 14), ("LD", 14), ("DDA", 8), ("MOB", 5), ("HAND", 2),
    ("PC", 3), ("INC", 2), ("HEAR", 3), ("VIS", 3), ("CON", 3),
])
DISABILITY_CODES = ("MOB", "HAND", "PC", "INC", "COMM", "LD", "HEAR", "VIS", "BEH", "CON", "AUT", "DDA")
FACTORS = _Table([
    ("1A", 1.5), ("1B", 6), ("1C", 1), ("2A", 2.5), ("2B", 7), ("2C", 1), ("3A", 9), ("3B", 13),
    ("3C", 1.5), ("4A", 8), ("4B", 12), ("4C", 1.5), ("5A", 2), ("5B", 2), ("5C", 0.5), ("6A", 2),
    ("6B", 3), ("6C", 0.7), ("7A", 1), ("8B", 0.1), ("8C", 0.1), ("8D", 0.1), ("8E", 0.3),
    ("8F", 0.1), ("9A", 1.5), ("10A", 3), ("11A", 2.5), ("12A", 0.5), ("13A", 1.5), ("14A", 3),
    ("15A", 3), ("16A", 10), ("17A", 10), ("18B", 1), ("18C", 4), ("19B", 1), ("19C", 2),
    ("20", 5), ("22A", 0.2), ("23A", 0.3), ("24A", 2),
])
CATEGORY = _Table([("NEG", 48), ("EMO", 36), ("PHY", 7), ("SAB", 4), ("MUL", 5)])
PREVIOUS_CPP = _Table([("0", 75), ("1", 17), ("2", 6), ("3", 2)])
OTHER_CLOSURE = _Table([("RC7", 82), ("RC5", 7), ("RC3", 3), ("RC4", 3), ("RC6", 2), ("RC1", 1)])
UPN_UNKNOWN_SCHOOL_AGE = _Table([("UN2", 30), ("UN3", 20), ("UN4", 30), ("UN5", 10), ("UN6", 10)])
AGE_BAND = _Table([((0, 1), 6), ((1, 5), 19), ((5, 10), 26), ((10, 16), 37), ((16, 18), 11), ((18, 19), 1)])

P_UNBORN = 0.02
P_DECEASED = 0.0025
P_NFA = 0.08
P_CARRIED = 0.30
P_FINAL_OPEN = 0.45

# ------------------------------------------------------------------------------------------------
# Calendar of one collection: dates as ordinals, working days counted with validator.calendar


class _Calendar:
    def __init__(self, year: CollectionYear):
        self.ps = year.period_start.toordinal()
        self.rd = year.reference_date.toordinal()
        self.lo = lo = date(year.end_year - 5, 1, 1).toordinal()
        hi = date(year.end_year + 2, 12, 31).toordinal()
        self.work = [is_working_day(date.fromordinal(o)) for o in range(lo, hi + 1)]
        self.cum, count = [], 0
        for flag in self.work:
            count += flag
            self.cum.append(count)
        self.days = [lo + i for i, flag in enumerate(self.work) if flag]
        if year.name == "2023-24":  # 8770Q: aged six or over on the ReferenceDate
            self.school_cutoff = date(year.end_year - 6, 3, 31).toordinal()
        else:  # from 2024-25: in Year 1 or above
            self.school_cutoff = date(year.end_year - 6, 8, 31).toordinal()
        self._iso: dict[int, str] = {}

    def wd(self, a: int, b: int) -> int:
        """Working days after a, up to and including b."""
        return self.cum[b - self.lo] - self.cum[a - self.lo]

    def add(self, day: int, n: int) -> int:
        """The n-th working day after `day` (the day itself when n is 0)."""
        if n <= 0:
            return day
        return self.days[self.cum[day - self.lo] + n - 1]

    def next_wd(self, day: int) -> int:
        """`day` when it is a working day, else the next one."""
        return day if self.work[day - self.lo] else self.days[self.cum[day - self.lo]]

    def iso(self, day: int) -> str:
        text = self._iso.get(day)
        if text is None:
            text = self._iso[day] = date.fromordinal(day).isoformat()
        return text


_TRUE, _FALSE = ("true", "1"), ("false", "0")  # the valid spellings of each boolean value


def _mixture(rng: random.Random, *parts: tuple[float, int, int]) -> int:
    """A whole number from a mixture of ranges: parts are (cumulative probability, low, how many)."""
    r = rng.random()
    for edge, low, count in parts:
        if r < edge:
            break
    return low + int(rng.random() * count)


def _weekday(day: int) -> int:
    return (day - 1) % 7  # Monday 0 ... Sunday 6, as date.weekday()


# ------------------------------------------------------------------------------------------------
# Result


@dataclass(frozen=True)
class Synthetic:
    xml: bytes
    breaches: list[dict]


def generate(children: int, seed: int, year: str, error_rate: float = 0.0) -> Synthetic:
    """A whole synthetic return for `year` with `children` children, as bytes, and its breaches."""
    breaches: list[dict] = []
    generator = _Generator(children, seed, year, error_rate)
    xml = b"".join(chunk.encode("ascii") for chunk in generator.chunks(breaches))
    return Synthetic(xml=xml, breaches=breaches)


def manifest_path(path: str | Path) -> Path:
    path = Path(path)
    return path.with_name(path.name + ".breaches.yaml")


def write(path: str | Path, children: int, seed: int, year: str, error_rate: float = 0.0) -> Path | None:
    """Write the return to `path` (streamed, in chunks) and, when error_rate > 0, the manifest of
    its breaches beside it (`<file>.breaches.yaml`), whose path is returned."""
    path = Path(path)
    generator = _Generator(children, seed, year, error_rate)
    breaches: list[dict] = []
    with open(path, "w", encoding="ascii", newline="\n") as out:
        for chunk in generator.chunks(breaches):
            out.write(chunk)
    if error_rate <= 0:
        return None
    target = manifest_path(path)
    target.write_text(manifest_text(breaches, path.name, generator.year.name, seed, children, error_rate),
                      encoding="utf-8")
    return target


def manifest_text(breaches: list[dict], file: str, year: str, seed: int, children: int,
                  error_rate: float) -> str:
    """The manifest as YAML (strings JSON-quoted, which YAML reads as double-quoted scalars)."""
    q = json.dumps
    lines = [
        "# Breaches injected into a synthetic CIN census return by cin-validate synth.",
        "# One entry per finding the breaches must raise; the return raises no other finding.",
        f"file: {q(file)}", f"collection_year: {q(year)}", f"seed: {seed}", f"children: {children}",
        f"error_rate: {error_rate!r}", f"count: {len(breaches)}",
    ]
    if not breaches:
        lines.append("breaches: []")
    else:
        lines.append("breaches:")
        for b in breaches:
            child = "null" if b["child_id"] is None else q(b["child_id"])
            lines += [f"  - kind: {q(b['kind'])}", f"    code: {q(b['code'])}", f"    child_id: {child}",
                      f"    description: {q(b['description'])}"]
    return "\n".join(lines) + "\n"


# ------------------------------------------------------------------------------------------------
# The generator

class _Generator:
    def __init__(self, children: int, seed: int, year: str, error_rate: float):
        if children < 1:
            raise ValueError("a return needs at least one child")
        if not 0.0 <= error_rate <= 1.0:
            raise ValueError("error_rate must be between 0 and 1")
        self.year = parse_year(year)
        if self.year.name not in SUPPORTED:  # pragma: no cover - parse_year refuses these
            raise ValueError(year)
        self.n = children
        self.seed = seed
        self.error_rate = error_rate
        self.rng = random.Random(seed)
        self.cal = _Calendar(self.year)
        self.gender_tag = "GenderCurrent" if self.year.name == "2023-24" else "Sex"
        self.pp_year = self.year.name >= "2026-27"
        self.lea = LA_CODES[int(self.rng.random() * len(LA_CODES))]
        self.upn_offset = int(self.rng.random() * 10 ** 8)
        self.next_id = 1_000_000 + int(self.rng.random() * 100_000)
        # return-wide tallies that rules 2886Q, 2887Q, 2888Q, 8995Q and 9000Q look at
        self.born = 0
        self.unknown_sex = 0
        self.codes_used: set[str] = set()
        self.has_two = False
        self.pp_blocks = 0
        self.prev: dict | None = None  # the child before, for the duplicate breaches
        self.catalogue = [b for b in _CATALOGUE if b[3] is None or self.year.name in b[3]]

    # ---- output ------------------------------------------------------------------------------

    def chunks(self, breaches: list[dict]):
        y = self.year
        yield ('<?xml version="1.0" encoding="UTF-8"?>\n'
               f"<!-- Synthetic CIN census return for {y.name}: {self.n} invented children (seed {self.seed}, "
               f"error rate {self.error_rate!r}). No real person's data. -->\n"
               "<Message>\n  <Header>\n    <CollectionDetails>\n      <Collection>CIN</Collection>\n"
               f"      <Year>{y.end_year}</Year>\n      <ReferenceDate>{y.end_year}-03-31</ReferenceDate>\n"
               "    </CollectionDetails>\n    <Source>\n      <SourceLevel>L</SourceLevel>\n"
               f"      <LEA>{self.lea}</LEA>\n      <SoftwareCode>cin-validate synth</SoftwareCode>\n"
               f"      <Release>{__version__}</Release>\n      <SerialNo>001</SerialNo>\n"
               f"      <DateTime>{y.end_year}-04-15T09:30:00</DateTime>\n    </Source>\n  </Header>\n"
               "  <Children>\n")
        out: list[str] = []
        for index in range(self.n):
            child = self.child(index)
            if self.error_rate and self.rng.random() < self.error_rate:
                breaches += self.inject(child)
            self.tally(child)
            self.prev = child
            self.write_child(child, out)
            if len(out) > 20000:
                yield "".join(out)
                out.clear()
        out.append("  </Children>\n</Message>\n")
        yield "".join(out)

    def write_child(self, c: dict, out: list[str]) -> None:
        iso = self.cal.iso
        a = out.append

        def el(ind: str, tag: str, v) -> None:
            if v is not None:
                a(f"{ind}<{tag}>{iso(v) if v.__class__ is int else v}</{tag}>\n")

        a("    <Child>\n")
        block = out if "swap" not in c else []
        b = block.append
        i6 = "        "
        b("      <ChildIdentifiers>\n")
        b(f"{i6}<LAchildID>{c['id']}</LAchildID>\n")
        for tag, key in (("UPN", "upn"), ("FormerUPN", "former"), ("UPNunknown", "unknown")):
            if c[key] is not None:
                b(f"{i6}<{tag}>{c[key]}</{tag}>\n")
        if c["birth"] is not None:
            b(f"{i6}<PersonBirthDate>{iso(c['birth'])}</PersonBirthDate>\n")
        if c["expected"] is not None:
            b(f"{i6}<ExpectedPersonBirthDate>{iso(c['expected'])}</ExpectedPersonBirthDate>\n")
        b(f"{i6}<{self.gender_tag}>{c['sex']}</{self.gender_tag}>\n")
        if "extra" in c:
            b(f"{i6}{c['extra']}\n")
        if c["death"] is not None:
            b(f"{i6}<PersonDeathDate>{iso(c['death'])}</PersonDeathDate>\n")
        b("      </ChildIdentifiers>\n")
        if block is not out:
            _swap(block, c["swap"])
            out += block
        a(f"      <ChildCharacteristics>\n{i6}<Ethnicity>{c['eth']}</Ethnicity>\n")
        if c["dis"] is not None:
            a(f"{i6}<Disabilities>\n")
            for code in c["dis"]:
                a(f"          <Disability>{code}</Disability>\n")
            a(f"{i6}</Disabilities>\n")
        a("      </ChildCharacteristics>\n")
        for ep in c["eps"]:
            block = out if "swap" not in ep else []
            b = block.append
            b("      <CINdetails>\n")
            b(f"{i6}<CINreferralDate>{iso(ep['ref'])}</CINreferralDate>\n")
            b(f"{i6}<ReferralSource>{ep['src']}</ReferralSource>\n")
            if ep["need"] is not None:
                b(f"{i6}<PrimaryNeedCode>{ep['need']}</PrimaryNeedCode>\n")
            if ep["close"] is not None:
                b(f"{i6}<CINclosureDate>{iso(ep['close'])}</CINclosureDate>\n")
            if ep["reason"] is not None:
                b(f"{i6}<ReasonForClosure>{ep['reason']}</ReasonForClosure>\n")
            if ep["icpc"] is not None:
                b(f"{i6}<DateOfInitialCPC>{iso(ep['icpc'])}</DateOfInitialCPC>\n")
            if block is not out:
                _swap(block, ep["swap"])
                out += block
            for s in ep["ass"]:
                a(f"{i6}<Assessments>\n")
                el("          ", "AssessmentActualStartDate", s["start"])
                el("          ", "AssessmentInternalReviewDate", s["review"])
                el("          ", "AssessmentAuthorisationDate", s["auth"])
                if s["factors"] is not None:
                    a("          <FactorsIdentifiedAtAssessment>\n")
                    for f in s["factors"]:
                        a(f"            <AssessmentFactors>{f}</AssessmentFactors>\n")
                    a("          </FactorsIdentifiedAtAssessment>\n")
                a(f"{i6}</Assessments>\n")
            for p in ep["cin"]:
                a(f"{i6}<CINPlanDates>\n")
                el("          ", "CINPlanStartDate", p["start"])
                el("          ", "CINPlanEndDate", p["end"])
                a(f"{i6}</CINPlanDates>\n")
            for s in ep["s47"]:
                a(f"{i6}<Section47>\n")
                el("          ", "S47ActualStartDate", s["start"])
                el("          ", "InitialCPCtarget", s["target"])
                el("          ", "DateOfInitialCPC", s["icpc"])
                a(f"          <ICPCnotRequired>{s['notreq']}</ICPCnotRequired>\n")
                a(f"{i6}</Section47>\n")
            if ep["nfa"] is not None:
                a(f"{i6}<ReferralNFA>{ep['nfa']}</ReferralNFA>\n")
            for p in ep["cpp"]:
                block = out if "swap" not in p else []
                b = block.append
                b(f"{i6}<ChildProtectionPlans>\n")
                b(f"          <CPPstartDate>{iso(p['start'])}</CPPstartDate>\n")
                if p["end"] is not None:
                    b(f"          <CPPendDate>{iso(p['end'])}</CPPendDate>\n")
                b(f"          <InitialCategoryOfAbuse>{p['init']}</InitialCategoryOfAbuse>\n")
                b(f"          <LatestCategoryOfAbuse>{p['latest']}</LatestCategoryOfAbuse>\n")
                b(f"          <NumberOfPreviousCPP>{p['prev']}</NumberOfPreviousCPP>\n")
                if p["reviews"]:
                    b("          <Reviews>\n")
                    for r in p["reviews"]:
                        b(f"            <CPPreviewDate>{iso(r) if r.__class__ is int else r}</CPPreviewDate>\n")
                    b("          </Reviews>\n")
                b(f"{i6}</ChildProtectionPlans>\n")
                if block is not out:
                    _swap(block, p["swap"])
                    out += block
            for p in ep["pp"]:
                a(f"{i6}<PreProceedingsandFGDM>\n")
                for tag in _PP_ORDER:
                    el("          ", tag, p.get(tag))
                a(f"{i6}</PreProceedingsandFGDM>\n")
            a("      </CINdetails>\n")
        a("    </Child>\n")

    # ---- one child ---------------------------------------------------------------------------

    def child(self, index: int) -> dict:
        if index < self.n - 1:
            return self._child()
        # A small return must still use 8+ disability codes with some child holding two (2887Q,
        # 2888Q) and, in 2026-27, hold a pre-proceedings block (8995Q, 9000Q): the last child is
        # drawn again until it can carry what is missing, then given it.
        counters = (self.born, self.unknown_sex)
        need_pp = self.pp_year and self.pp_blocks == 0
        child = self._child(force_pp=need_pp)
        tries = 0
        while ((need_pp and not _has_pp(child)) or (not self._coverage_ok() and child["birth"] is None)) \
                and tries < 200:
            self.born, self.unknown_sex = counters
            child = self._child(force_pp=need_pp)
            tries += 1
        if not self._coverage_ok():
            have = [d for d in child["dis"] or () if d in DISABILITY_CODES]  # NONE is dropped
            used = self.codes_used | set(have)
            have += [code for code in DISABILITY_CODES if code not in used][:max(0, 8 - len(used))]
            if not self.has_two and len(have) < 2:
                have += [code for code in DISABILITY_CODES if code not in have][:2 - len(have)]
            child["dis"] = have
        return child

    def _coverage_ok(self) -> bool:
        return len(self.codes_used) >= 8 and self.has_two

    def tally(self, c: dict) -> None:
        valid = [d for d in c["dis"] or () if d in DISABILITY_CODES]
        self.codes_used.update(valid)
        if len(set(valid)) >= 2:
            self.has_two = True
        if _has_pp(c):
            self.pp_blocks += sum(1 for ep in c["eps"] for p in ep["pp"] if p.get("PPStartDate") is not None)

    def _child(self, force_pp: bool = False) -> dict:
        rng, cal = self.rng, self.cal
        ps, rd = cal.ps, cal.rd
        unborn = not force_pp and rng.random() < P_UNBORN
        c = {"id": None, "upn": None, "former": None, "unknown": None, "birth": None, "expected": None,
             "sex": None, "death": None, "eth": None, "dis": None, "eps": []}
        self.force_pp = force_pp
        self.horizon = rd
        if unborn:
            end = date.fromordinal(rd).year
            first, last_day = date(end, 3, 1).toordinal(), date(end, 12, 31).toordinal()
            if rng.random() < 0.1:
                expected = first + int(rng.random() * 31)
            else:
                span = last_day - rd
                expected = rd + 1 + int(min(rng.random(), rng.random()) * span)
            c["expected"] = expected
            low = max(ps, expected - 280)
            high = min(rd, expected - 1)
            ref = self._ref_day(min(low + int((rng.random() ** 0.5) * (high - low + 1)), high), high)
            c["eps"] = self._episodes(ref, carried=False, count=1)
            c["sex"] = "0" if self.gender_tag == "GenderCurrent" else "U"
            c["unknown"] = "UN1"
            c["eth"] = "NOBT" if rng.random() < 0.4 else ETHNICITY.draw(rng)
        else:
            low_age, high_age = AGE_BAND.draw(rng)
            birth = rd - int((low_age + rng.random() * (high_age - low_age)) * 365.25)
            birth = min(birth, rd)
            c["birth"] = birth
            count = 1 if (r := rng.random()) < 0.70 else (2 if r < 0.92 else 3)
            earliest = max(birth - 150, ps - 800)
            carried = (not force_pp) and earliest < ps - 30 and rng.random() < P_CARRIED
            if carried:
                ref = self._ref_day(earliest + int(rng.random() * (ps - 30 - earliest)), ps - 30)
            else:
                low = max(ps, birth - 150)
                ref = self._ref_day(min(low + int((rng.random() ** count) * (rd - low + 1)), rd), rd)
            if not force_pp and rng.random() < P_DECEASED and not carried:
                # died in the year: one episode, closed RC2 on or after the death date
                death = ref + 10 + int(rng.random() * 200)
                death = max(death, birth + 1)
                if death < rd:
                    c["death"] = death
                    self.horizon = death
                    count = 1
            c["eps"] = self._episodes(ref, carried=carried, count=count)
            if c["death"] is not None:
                self._close_at_death(c["eps"][-1], c["death"])
            all_nfa = all(ep["nfa"] in _TRUE for ep in c["eps"])
            c["sex"] = self._sex()
            c["eth"] = ETHNICITY.draw(rng)
            if all_nfa:
                c["dis"] = None if rng.random() < 0.5 else ["NONE"]
            elif rng.random() < 0.86:
                c["dis"] = ["NONE"]
            else:
                k = 1 if (r := rng.random()) < 0.6 else (2 if r < 0.88 else 3)
                codes: list[str] = []
                while len(codes) < k:
                    code = DISABILITY.draw(rng)
                    if code not in codes:
                        codes.append(code)
                c["dis"] = codes
            self._identifiers(c, all_nfa)
        c["id"] = self._new_id()
        c["id0"], c["upn0"] = c["id"], c["upn"]  # as drawn, before any breach
        return c

    def _ref_day(self, day: int, limit: int) -> int:
        """Most referrals are dated on a working day; some (police, A&E) at a weekend."""
        if self.rng.random() < 0.85:
            moved = self.cal.next_wd(day)
            if moved <= limit:
                return moved
        return day

    def _new_id(self) -> str:
        self.next_id += 1 + int(self.rng.random() * 30)
        return f"C{self.next_id}"

    def _sex(self) -> str:
        rng = self.rng
        self.born += 1
        r = rng.random()
        unknown_ok = (self.unknown_sex + 1) <= 0.02 * self.born
        if self.gender_tag == "GenderCurrent":
            if r < 0.003 and unknown_ok:
                self.unknown_sex += 1
                return "0"
            if r < 0.005:
                return "9"
            return "1" if r < 0.525 else "2"
        if r < 0.005 and unknown_ok:
            self.unknown_sex += 1
            return "U"
        return "M" if r < 0.525 else "F"

    def _identifiers(self, c: dict, all_nfa: bool) -> None:
        rng, cal = self.rng, self.cal
        age = (cal.rd - c["birth"]) / 365.25
        p_upn = 0.93 if age >= 5 else 0.6 if age >= 4 else 0.08 if age >= 2 else 0.0
        if rng.random() < p_upn:
            c["upn"] = self._upn()
            if rng.random() < 0.01:
                c["former"] = self._upn(former=True)
        elif all_nfa and rng.random() < 0.5:
            c["unknown"] = "UN7"
        elif c["birth"] <= cal.school_cutoff:
            c["unknown"] = UPN_UNKNOWN_SCHOOL_AGE.draw(rng)
        else:
            c["unknown"] = "UN1"

    def _upn(self, former: bool = False) -> str:
        rng = self.rng
        la = self.lea if rng.random() < 0.85 else LA_CODES[int(rng.random() * len(LA_CODES))]
        if former:
            serial = int(rng.random() * 10 ** 8)  # a FormerUPN need not be unique
        else:
            self.upn_offset = (self.upn_offset + 48271) % 10 ** 8  # a bijection: never repeats
            serial = self.upn_offset
        last = str(int(rng.random() * 10)) if rng.random() < 0.97 else _UPN_ALPHABET[int(rng.random() * 23)]
        rest = f"{la}{serial:08d}{last}"
        return upn_check_letter(rest) + rest

    # ---- episodes ------------------------------------------------------------------------------

    def _episodes(self, ref: int, carried: bool, count: int) -> list[dict]:
        rng = self.rng
        nfa_allowed = not self.force_pp and self.horizon == self.cal.rd  # not for a child who died
        episodes = []
        for k in range(count):
            final = k == count - 1
            if carried and k == 0:
                ep = self._carried_episode(ref)
            elif rng.random() < P_NFA and nfa_allowed:
                ep = self._nfa_episode(ref)
            else:
                ep = self._episode(ref, may_stay_open=final and rng.random() < P_FINAL_OPEN)
            episodes.append(ep)
            if ep["close"] is None:
                break
            ref = self._ref_day(ep["close"] + 1 + int(rng.random() * 150), self.horizon)
            if ref > self.horizon:
                break
        return episodes

    def _new_episode(self, ref: int, nfa: bool) -> dict:
        rng = self.rng
        if nfa:
            need = None if rng.random() < 0.8 else ("N9" if rng.random() < 0.5 else "N0")
        else:
            need = PRIMARY_NEED.draw(rng)
        flag = "true" if nfa else "false"
        if rng.random() < 0.01:
            flag = "1" if nfa else "0"
        return {"ref": ref, "src": REFERRAL_SOURCE.draw(rng), "need": need, "close": None, "reason": None,
                "icpc": None, "ass": [], "cin": [], "s47": [], "nfa": flag, "cpp": [], "pp": []}

    def _nfa_episode(self, ref: int) -> dict:
        ep = self._new_episode(ref, nfa=True)
        close = ref if self.rng.random() < 0.85 else ref + 1 + int(self.rng.random() * 3)
        ep["close"] = min(close, self.horizon)
        ep["reason"] = "RC7"
        return ep

    def _assess(self, ep: dict, start: int) -> int | None:
        """An assessment starting on `start`; its authorisation date, or None while it is open."""
        rng, cal = self.rng, self.cal
        days = _mixture(rng, (0.70, 10, 36), (0.85, 1, 9), (1.0, 46, 35))  # working days
        auth = cal.add(start, days)
        h = self.horizon
        if auth > h:
            if h == cal.rd and cal.wd(start, cal.rd) <= 45 and start >= cal.ps:
                auth = None
            else:
                room = cal.wd(start, h)
                auth = cal.add(start, int(rng.random() * (room + 1))) if room > 0 else start
                auth = min(auth, h)
        if auth is not None and auth < cal.ps:  # only assessments authorised in the period are returned
            auth = min(cal.add(cal.ps - 1, 1 + int(rng.random() * 5)), h)
        review = None
        if auth is not None and rng.random() < 0.1:
            review = cal.add(start, 5 + int(rng.random() * 10))
            if review >= auth:
                review = None
        ep["ass"].append({"start": start, "review": review, "auth": auth, "factors": None})
        return auth

    def _section47(self, ep: dict, start: int) -> tuple[int | None, str]:
        """A section 47 enquiry; (ICPC date, 'icpc') or (None, 'notreq' / 'pending')."""
        rng, cal = self.rng, self.cal
        h = self.horizon
        target = cal.add(start, 15) if rng.random() < 0.9 else None
        record = {"start": start, "target": target, "icpc": None, "notreq": "false"}
        ep["s47"].append(record)
        if rng.random() >= 0.72:
            record["notreq"] = "true"
            return None, "notreq"
        k = 5 + int(rng.random() * 11) if rng.random() < 0.82 else 16 + int(rng.random() * 10)
        icpc = cal.add(start, k)
        if icpc > h:
            room = cal.wd(start, h)
            if h == cal.rd and cal.wd(start, cal.rd) <= 15:
                return None, "pending"
            if room <= 0:
                record["notreq"] = "true"
                return None, "notreq"
            icpc = cal.add(start, 1 + int(rng.random() * room))
        record["icpc"] = icpc
        return icpc, "icpc"

    def _cin_plan(self, ep: dict, start: int, minimum_end: int | None = None) -> int | None:
        """A CIN plan from `start`; its end date, or None while it is open."""
        rng = self.rng
        days = _mixture(rng, (0.3, 30, 90), (0.8, 120, 180), (1.0, 300, 300))
        end = self.cal.next_wd(start + days)
        if minimum_end is not None:
            end = max(end, minimum_end)
        plan = {"start": start, "end": None}
        ep["cin"].append(plan)
        if end <= self.horizon:
            plan["end"] = end
            return end
        return None

    def _cpp(self, ep: dict, start: int, minimum_end: int | None = None) -> int | None:
        """A child protection plan from `start`; its end date, or None while it is open."""
        rng, cal = self.rng, self.cal
        days = _mixture(rng, (0.25, 60, 120), (0.7, 180, 220), (1.0, 400, 320))
        end = cal.next_wd(start + days)
        if minimum_end is not None:
            end = max(end, minimum_end)
        if end > self.horizon:
            end = None
        init = CATEGORY.draw(rng)
        latest = init if rng.random() < 0.85 else CATEGORY.draw(rng)
        stop = end if end is not None else self.horizon + 1
        reviews = []
        day = cal.next_wd(start + 50 + int(rng.random() * 36))
        while day < stop and day <= self.horizon:
            if day >= cal.ps:
                reviews.append(day)
            day = cal.next_wd(day + 165 + int(rng.random() * 26))
        if end is not None and rng.random() < 0.75:
            reviews.append(end)
        ep["cpp"].append({"start": start, "end": end, "init": init, "latest": latest,
                          "prev": PREVIOUS_CPP.draw(rng), "reviews": reviews})
        return end

    def _after_cpp(self, ep: dict, end: int | None) -> int | None:
        """What follows a protection plan: step down to a CIN plan, or close. Episode end or None."""
        if end is None:
            return None
        if self.rng.random() < 0.55:
            return self._cin_plan(ep, end)
        return end

    def _cin_path(self, ep: dict, start: int) -> int | None:
        """A CIN plan from `start`, sometimes stepping up to a section 47 and a protection plan."""
        rng, cal = self.rng, self.cal
        h = self.horizon
        start = cal.next_wd(start)
        if start > h:
            return None
        if rng.random() < 0.08:
            step = cal.next_wd(start + 20 + int(rng.random() * 130))
            if step <= h and step >= cal.ps:
                plan = {"start": start, "end": None}
                ep["cin"].append(plan)
                if self._assess(ep, step) is None:
                    self._section47(ep, step)  # the record of an enquiry still running
                    return None
                icpc, status = self._section47(ep, step)
                if status == "icpc":
                    plan["end"] = icpc
                    return self._after_cpp(ep, self._cpp(ep, icpc))
                if status == "pending":
                    return None
                return self._cin_plan_end(plan, start, step + 30)
        return self._cin_plan(ep, start)

    def _cin_plan_end(self, plan: dict, start: int, minimum: int) -> int | None:
        end = max(self.cal.next_wd(start + 60 + int(self.rng.random() * 200)), minimum)
        if end <= self.horizon:
            plan["end"] = end
            return end
        return None

    def _episode(self, ref: int, may_stay_open: bool) -> dict:
        """A non-NFA episode referred on `ref` in the period."""
        rng, cal = self.rng, self.cal
        ep = self._new_episode(ref, nfa=False)
        h = self.horizon
        if rng.random() < 0.3:
            assess_start = cal.next_wd(ref)
        else:
            assess_start = cal.add(ref, _mixture(rng, (0.7, 1, 3), (1.0, 4, 7)))
        r = rng.random()
        if self.force_pp:
            r = 0.1
        end: int | None = None
        closing = None  # reason when the episode ends
        if r < 0.02:  # transfer-in: a conference held for a child arriving on a plan
            icpc = cal.add(ref, 3 + int(rng.random() * 13))
            if icpc <= h:
                ep["icpc"] = icpc
                if assess_start <= h and self._assess(ep, min(assess_start, icpc)) is not None:
                    end = self._after_cpp(ep, self._cpp(ep, icpc))
                else:
                    self._cpp(ep, icpc)
            elif assess_start <= h:
                self._assess(ep, assess_start)
        elif r < 0.24:  # section 47 enquiry
            s_start = cal.next_wd(ref + int(rng.random() * 4))
            if s_start <= h:
                a_start = s_start if rng.random() < 0.6 else min(assess_start, s_start)
                auth = self._assess(ep, a_start)
                icpc, status = self._section47(ep, s_start)
                if status == "icpc" and rng.random() < 0.78:
                    cpp_end = self._cpp(ep, icpc)
                    end = self._after_cpp(ep, cpp_end) if auth is not None else None
                elif status == "pending" or auth is None:
                    end = None
                else:
                    decided = icpc if icpc is not None else cal.add(s_start, 5 + int(rng.random() * 6))
                    after = max(decided, auth)
                    if rng.random() < 0.6:
                        end = self._cin_path(ep, after + int(rng.random() * 11))
                    else:
                        end = after + int(rng.random() * 15)
            elif assess_start <= h:
                self._assess(ep, assess_start)
        elif assess_start > h:
            end = None
        else:
            auth = self._assess(ep, assess_start)
            if auth is None:
                end = None
            elif r < 0.54:  # assessment, then no further action (or early help)
                end = auth + int(rng.random() * 8)
                closing = "RC8" if rng.random() < 0.6 else "RC9"
            elif r < 0.92:  # assessment, then a CIN plan
                end = self._cin_path(ep, auth + int(rng.random() * 15))
            else:
                end = auth + int(rng.random() * 21)
        self._finish(ep, end, closing, may_stay_open)
        return ep

    def _carried_episode(self, ref: int) -> dict:
        """A non-NFA episode referred before the census period and still open on 1 April."""
        rng, cal = self.rng, self.cal
        ps = cal.ps
        ep = self._new_episode(ref, nfa=False)
        r = rng.random()
        closing = None
        if r < 0.55:  # a CIN plan running on 1 April
            start = min(ref + 20 + int(rng.random() * 70), ps - 1)
            end = self._cin_plan(ep, start, minimum_end=ps + int(rng.random() * 300))
        elif r < 0.9:  # a protection plan running on 1 April
            start = min(ref + 10 + int(rng.random() * 50), ps - 1)
            end = self._after_cpp(ep, self._cpp(ep, start, minimum_end=ps + int(rng.random() * 250)))
        else:  # an assessment begun in March, authorised in the period
            ref = ep["ref"] = ps - 5 - int(rng.random() * 35)
            auth = self._assess(ep, cal.next_wd(ref + int(rng.random() * 4)))
            if auth is None:
                end = None
            elif rng.random() < 0.4:
                end = auth + int(rng.random() * 8)
                closing = "RC8" if rng.random() < 0.6 else "RC9"
            else:
                end = self._cin_path(ep, auth + int(rng.random() * 15))
        self._finish(ep, end, closing, may_stay_open=True)
        return ep

    def _finish(self, ep: dict, end: int | None, closing: str | None, may_stay_open: bool) -> None:
        """Close the episode when its work is done (on or after every date in it), then its
        factors and (2026-27) pre-proceedings."""
        rng, cal = self.rng, self.cal
        h = self.horizon
        if end is not None:
            if not _all_done(ep):
                end = None
            else:
                end = max(end, _latest(ep))
                if rng.random() < 0.5 and closing is None:
                    end += int(rng.random() * 8)
                if cal.next_wd(end) <= h:
                    end = cal.next_wd(end)
                if end > h:
                    end = None
        if end is not None and may_stay_open and h == cal.rd and closing is None and rng.random() < 0.3:
            end = None  # the work is done but the case is not closed yet
        if end is not None:
            ep["close"] = end
            ep["reason"] = closing or self._other_reason()
        single = len(ep["ass"]) == 1
        for s in ep["ass"]:
            if s["auth"] is not None:
                if single and ep["reason"] in ("RC8", "RC9") and rng.random() < 0.45:
                    s["factors"] = ["21"]
                else:
                    s["factors"] = self._factors()
        if self.pp_year and (ep["cpp"] or ep["cin"]):
            chance = 0.35 if ep["cpp"] else 0.04
            if self.force_pp or rng.random() < chance:
                self._pre_proceedings(ep)

    def _other_reason(self) -> str:
        return OTHER_CLOSURE.draw(self.rng)

    def _factors(self) -> list[str]:
        rng = self.rng
        r = rng.random()
        k = 1 if r < 0.3 else 2 if r < 0.65 else 3 if r < 0.87 else 4
        out: list[str] = []
        while len(out) < k:
            f = FACTORS.draw(rng)
            if f not in out:
                out.append(f)
        return out

    def _pre_proceedings(self, ep: dict) -> None:
        rng, cal = self.rng, self.cal
        limit = ep["close"] if ep["close"] is not None else min(self.horizon, cal.rd)
        anchor = ep["cpp"][0]["start"] if ep["cpp"] else ep["cin"][0]["start"]
        start = cal.next_wd(max(anchor + 20 + int(rng.random() * 180), cal.ps))
        if self.force_pp:
            start = max(anchor, cal.ps)
        if start > limit:
            return
        block: dict = {"PPStartDate": start}
        wd = cal.next_wd
        letter = wd(start + int(rng.random() * 15))
        if letter <= limit and rng.random() < 0.9:
            block["LBPSentDate"] = letter
            offer = rng.random() < 0.8
            block["FGDMMeetingOffer"] = "true" if offer else "false"
            if offer:
                block["FGDMMeetingFac"] = "true" if rng.random() < 0.7 else "false"
            elif rng.random() < 0.5:
                block["FGDMMeetingFac"] = "false"
            meeting = wd(letter + 7 + int(rng.random() * 15))
            if meeting <= limit:
                block["InitialPPMeetingDate"] = meeting
                block["ReviewMeetingsCount"] = str(int(rng.random() * 4))
                step = wd(meeting + 42 + int(rng.random() * 80))
                if step <= limit:
                    block["StepDecisionDate"] = step
                    outcome = "A" if (o := rng.random()) < 0.35 else ("B" if o < 0.8 else "C")
                    block["PPOutcome"] = outcome
                    if outcome == "A":
                        court = wd(step + int(rng.random() * 22))
                        if court <= limit:
                            block["CourtAppDate"] = court
                            letter2 = wd(court + int(rng.random() * 8))
                            if letter2 <= limit and rng.random() < 0.7:
                                block["LetterInitCPDate"] = letter2
        ep["pp"].append(block)

    def _close_at_death(self, ep: dict, death: int) -> None:
        """The child died: everything open stops by the death date and the episode closes RC2."""
        rng, cal = self.rng, self.cal
        close = max(death + int(rng.random() * 11), ep["close"] or death)
        close = min(close, cal.rd)
        for s in ep["ass"]:
            if s["auth"] is None:
                s["auth"] = close
                s["factors"] = self._factors()
        for s in ep["s47"]:
            if s["icpc"] is None:
                s["notreq"] = "true"
        ep["cin"] = [p for p in ep["cin"] if p["end"] is not None or p["start"] < death]
        for p in ep["cin"]:
            if p["end"] is None:
                p["end"] = death
        ep["cpp"] = [p for p in ep["cpp"] if p["end"] is not None or p["start"] < death]
        for p in ep["cpp"]:
            if p["end"] is None:
                p["end"] = death
        ep["close"] = close
        ep["reason"] = "RC2"
        for s in ep["ass"]:  # 21 is only for RC8/RC9
            if s["factors"] == ["21"]:
                s["factors"] = self._factors()

    # ---- breaches ------------------------------------------------------------------------------

    def inject(self, c: dict) -> list[dict]:
        """One breach on this child, chosen among those that apply; the findings it must raise."""
        rng = self.rng
        options = list(self.catalogue)
        total = sum(option[1] for option in options)
        while options:
            x = rng.random() * total
            for i, option in enumerate(options):
                x -= option[1]
                if x < 0:
                    break
            kind, weight, method, _ = options.pop(i)
            total -= weight
            result = method(self, c)
            if result:
                return [{"kind": kind, "code": code, "child_id": child_id, "description": text}
                        for code, child_id, text in result]
        return []


# ------------------------------------------------------------------------------------------------
# Helpers on the structures

_PP_ORDER = ("PPStartDate", "LBPSentDate", "FGDMMeetingOffer", "FGDMMeetingFac", "InitialPPMeetingDate",
             "ReviewMeetingsCount", "StepDecisionDate", "PPOutcome", "CourtAppDate", "LetterInitCPDate")


def _swap(block: list[str], tags: tuple[str, str]) -> None:
    first = second = None
    for i, line in enumerate(block):
        stripped = line.lstrip()
        if stripped.startswith(f"<{tags[0]}>"):
            first = i
        elif stripped.startswith(f"<{tags[1]}>"):
            second = i
    if first is not None and second is not None:
        block[first], block[second] = block[second], block[first]


def _has_pp(c: dict) -> bool:
    return any(ep["pp"] for ep in c["eps"])


def _all_done(ep: dict) -> bool:
    """Nothing in the episode is still running."""
    return (all(s["auth"] is not None for s in ep["ass"])
            and all(s["icpc"] is not None or s["notreq"] == "true" for s in ep["s47"])
            and all(p["end"] is not None for p in ep["cin"])
            and all(p["end"] is not None for p in ep["cpp"]))


def _latest(ep: dict) -> int:
    """The latest date in the episode that its closure must not precede (rule 8565)."""
    dates = [ep["ref"]]
    if ep["icpc"] is not None:
        dates.append(ep["icpc"])
    for s in ep["ass"]:
        dates += [d for d in (s["start"], s["auth"], s["review"]) if d is not None]
    for s in ep["s47"]:
        dates += [d for d in (s["start"], s["icpc"]) if d is not None]
    for p in ep["cin"]:
        dates += [d for d in (p["start"], p["end"]) if d is not None]
    for p in ep["cpp"]:
        dates += [d for d in (p["start"], p["end"]) if d is not None]
        dates += p["reviews"]
    return max(dates)


# ------------------------------------------------------------------------------------------------
# The breach catalogue. Each function changes one child (or returns None when it cannot apply to
# it) and names every finding the change must raise: (code, LAchildID, description). The notes
# say why nothing else fires.



def _pick(g: _Generator, items: list):
    return items[int(g.rng.random() * len(items))] if items else None


def _non_nfa(c: dict) -> list[dict]:
    return [ep for ep in c["eps"] if ep["nfa"] in _FALSE]


def _child_plans(c: dict) -> list[dict]:
    return [p for ep in c["eps"] for p in ep["cin"]]


def _review_clash(g: _Generator, ep: dict) -> bool:
    """Would rule 4003 fire in this episode (a review inside a CIN plan, not on its plan's end)?"""
    rd = g.cal.rd
    for x in ep["cpp"]:
        for r in x["reviews"]:
            if r.__class__ is not int or r == x["end"]:
                continue
            for q in ep["cin"]:
                if q["start"] <= r and ((q["end"] is not None and q["end"] > r) or (q["end"] is None and r <= rd)):
                    return True
    return False


def _bad_date(g: _Generator, day: int) -> str:
    d = date.fromordinal(day)
    if g.rng.random() < 0.3:
        return d.strftime("%d/%m/%Y")
    month = d.month if d.month in (2, 4, 6, 9, 11) else 2 + 2 * int(g.rng.random() * 2)
    last = {2: 29 if d.year % 4 == 0 else 28, 4: 30, 6: 30, 9: 30, 11: 30}[month]
    return f"{d.year}-{month:02d}-{last + 1}"


def _b_missing_need(g, c):
    ep = _pick(g, [ep for ep in _non_nfa(c) if ep["need"] is not None])
    if ep is None:
        return None
    ep["need"] = None
    return [("8610", c["id"], f"PrimaryNeedCode left out of the non-NFA episode referred {g.cal.iso(ep['ref'])}")]


def _b_invalid_need(g, c):
    ep = _pick(g, [ep for ep in c["eps"] if ep["need"] is not None])
    if ep is None:
        return None
    ep["need"] = _pick(g, ["N10", "n1", "N11", "NA"])
    return [("8650", c["id"], f"PrimaryNeedCode '{ep['need']}' is not a code")]


def _b_invalid_source(g, c):
    ep = _pick(g, c["eps"])
    ep["src"] = _pick(g, ["11", "2C", "0", "6A", "police"])
    return [("8866", c["id"], f"ReferralSource '{ep['src']}' is not a code")]


def _b_invalid_reason(g, c):
    # not RC8/RC9 (factor 21 would then be queried by 8873Q) nor RC2
    ep = _pick(g, [ep for ep in c["eps"] if ep["reason"] not in (None, "RC8", "RC9", "RC2")])
    if ep is None:
        return None
    ep["reason"] = _pick(g, ["RC10", "RC0", "rc7", "R7"])
    return [("8640", c["id"], f"ReasonForClosure '{ep['reason']}' is not a code")]


def _b_missing_reason(g, c):
    ep = _pick(g, [ep for ep in c["eps"] if ep["reason"] not in (None, "RC8", "RC9")])
    if ep is None:
        return None
    ep["reason"] = None
    return [("8805", c["id"], f"episode closed {g.cal.iso(ep['close'])} with no ReasonForClosure")]


def _b_closure_before_referral(g, c):
    # an NFA episode holds nothing else (8565), and its referral date is kept (8820, 8569Q)
    ps = g.cal.ps
    ep = _pick(g, [ep for ep in c["eps"] if ep["nfa"] in _TRUE and ep["close"] is not None and ep["ref"] - 1 >= ps])
    if ep is None:
        return None
    ep["close"] = max(ps, ep["ref"] - 1 - int(g.rng.random() * 7))
    return [("8630", c["id"], f"NFA episode closed {g.cal.iso(ep['close'])}, before its referral")]


def _b_auth_before_start(g, c):
    ps = g.cal.ps
    found = [s for ep in c["eps"] for s in ep["ass"] if s["auth"] is not None and s["start"] - 1 >= ps]
    s = _pick(g, found)
    if s is None:
        return None
    s["auth"] = max(ps, s["start"] - 1 - int(g.rng.random() * 5))  # still in the period (8696)
    return [("8608", c["id"], f"assessment authorised {g.cal.iso(s['auth'])}, before it started")]


def _b_assessment_before_referral(g, c):
    found = []
    for ep in c["eps"]:
        if ep["ass"]:
            first = min(ep["ass"], key=lambda s: s["start"])
            if first["auth"] is not None:  # an unauthorised one must start in the period (8736)
                found.append((ep, first))
    if not found:
        return None
    ep, s = _pick(g, found)
    s["start"] = ep["ref"] - 1 - int(g.rng.random() * 10)
    if s["review"] is not None and s["review"] <= s["start"]:
        s["review"] = None
    return [("1103", c["id"], f"assessment started {g.cal.iso(s['start'])}, before the referral")]


def _b_s47_before_referral(g, c):
    # an enquiry with an ICPC or no ICPC needed: no pending enquiry to query (8675Q, 8740); moved
    # earlier, it must not come to cover another enquiry of the episode (8890)
    found = []
    for ep in c["eps"]:
        for s in ep["s47"]:
            if s["icpc"] is None and s["notreq"] != "true":
                continue
            start = ep["ref"] - 1 - int(g.rng.random() * 5)
            if s["icpc"] is not None and any(o is not s and start <= o["start"] <= s["icpc"] for o in ep["s47"]):
                continue
            found.append((ep, s, start))
    if not found:
        return None
    ep, s, start = _pick(g, found)
    s["start"] = start
    return [("2889", c["id"], f"section 47 started {g.cal.iso(s['start'])}, before the referral")]


def _b_icpc_weekend(g, c):
    cal = g.cal
    options = []
    for ep in c["eps"]:
        for s in ep["s47"]:
            icpc = s["icpc"]
            if icpc.__class__ is not int or _weekday(icpc) > 4:
                continue
            day = icpc + (5 - _weekday(icpc)) + (1 if g.rng.random() < 0.3 else 0)
            if day > cal.rd or (ep["close"] is not None and day > ep["close"]):
                continue
            if c["death"] is not None and day > c["death"]:
                continue
            linked = [p for p in ep["cpp"] if p["start"] == icpc]
            if any((p["end"] is not None and p["end"] <= day) or any(r <= day for r in p["reviews"])
                   for p in linked):
                continue
            if any(q is not s and icpc <= q["start"] <= day for q in ep["s47"]):
                continue
            if any(icpc < q["start"] <= day or (q["end"] is not None and icpc < q["end"] <= day)
                   for q in _child_plans(c)):
                continue
            options.append((s, linked, day))
    if not options:
        return None
    s, linked, day = _pick(g, options)
    s["icpc"] = day
    for p in linked:  # the plan still starts at the conference (2885)
        p["start"] = day
    return [("8875", c["id"], f"ICPC held on a {date.fromordinal(day).strftime('%A')} ({cal.iso(day)})")]


def _b_target_weekend(g, c):
    found = [s for ep in c["eps"] for s in ep["s47"] if s["target"].__class__ is int and _weekday(s["target"]) < 5]
    s = _pick(g, found)
    if s is None:
        return None
    s["target"] = s["target"] + (5 - _weekday(s["target"])) + (1 if g.rng.random() < 0.5 else 0)
    return [("8870Q", c["id"], f"InitialCPCtarget on a weekend ({g.cal.iso(s['target'])})")]


def _b_cpp_without_icpc(g, c):
    cal = g.cal
    options = []
    for ep in c["eps"]:
        icpcs = {s["icpc"] for s in ep["s47"]} | {ep["icpc"]}
        for p in ep["cpp"]:
            if not (cal.ps <= p["start"] <= cal.rd) or p["start"] not in icpcs:
                continue
            day = p["start"] + 1
            if day > cal.rd or (p["end"] is not None and p["end"] <= day) or any(r <= day for r in p["reviews"]):
                continue
            if day in icpcs or (c["death"] is not None and day > c["death"]):
                continue
            if any(p["start"] < q["start"] <= day or (q["end"] is not None and p["start"] < q["end"] <= day)
                   for q in _child_plans(c)):
                continue
            options.append((p, day))
    if not options:
        return None
    p, day = _pick(g, options)
    p["start"] = day  # still in the period: 2883's counts do not change
    return [("2885", c["id"], f"protection plan starts {cal.iso(day)}, the day after its ICPC")]


def _b_cin_overlaps_cpp_end(g, c):
    options = []
    for ep in c["eps"]:
        for p in ep["cpp"]:
            for q in ep["cin"]:
                if p["end"] is not None and q["start"] == p["end"] and p["end"] - p["start"] > 1:
                    options.append((ep, p, q))
    if not options:
        return None
    ep, p, q = _pick(g, options)
    old = q["start"]
    q["start"] = max(p["start"] + 1, p["end"] - 1 - int(g.rng.random() * 10))
    if _review_clash(g, ep):
        q["start"] = old
        return None
    return [("4016", c["id"], f"CIN plan starts {g.cal.iso(q['start'])}, inside a protection plan")]


def _b_cin_overlaps_cpp_start(g, c):
    cal = g.cal
    options = []
    for ep in c["eps"]:
        for p in ep["cpp"]:
            for q in ep["cin"]:
                if q["end"] == p["start"]:
                    options.append((ep, p, q))
    if not options:
        return None
    ep, p, q = _pick(g, options)
    end = p["start"] + 1 + int(g.rng.random() * 10)
    if end > cal.rd or (ep["close"] is not None and end > ep["close"]) or (p["end"] is not None and end >= p["end"]):
        return None
    if c["death"] is not None and end > c["death"]:
        return None
    if any(x is not q and q["start"] <= x["start"] <= end for x in _child_plans(c)):
        return None
    old = q["end"]
    q["end"] = end
    if _review_clash(g, ep):
        q["end"] = old
        return None
    return [("4017", c["id"], f"protection plan starts {cal.iso(p['start'])} while a CIN plan runs to {cal.iso(end)}")]


def _b_cin_end_before_start(g, c):
    ps = g.cal.ps
    q = _pick(g, [q for q in _child_plans(c) if q["end"] is not None and q["start"] - 1 >= ps])
    if q is None:
        return None
    q["end"] = max(ps, q["start"] - 1 - int(g.rng.random() * 10))
    return [("4011", c["id"], f"CIN plan ends {g.cal.iso(q['end'])}, before it starts {g.cal.iso(q['start'])}")]


def _b_cpp_end_before_start(g, c):
    ps = g.cal.ps
    options = [(ep, p) for ep in c["eps"] for p in ep["cpp"] if p["end"] is not None and p["start"] - 1 >= ps]
    if not options:
        return None
    ep, p = _pick(g, options)
    saved = (p["end"], list(p["reviews"]))
    p["reviews"] = [r for r in p["reviews"] if r != p["end"]]  # the final conference is no longer the end
    p["end"] = max(ps, p["start"] - 1 - int(g.rng.random() * 10))
    if _review_clash(g, ep):
        p["end"], p["reviews"] = saved
        return None
    return [("8925", c["id"], f"protection plan ends {g.cal.iso(p['end'])}, before it starts {g.cal.iso(p['start'])}")]


def _b_review_on_start(g, c):
    p = _pick(g, [p for ep in c["eps"] for p in ep["cpp"] if p["reviews"]])
    if p is None:
        return None
    p["reviews"][0] = p["start"]
    return [("8841", c["id"], f"review dated {g.cal.iso(p['start'])}, the day the plan started")]


def _b_repeated_factor(g, c):
    s = _pick(g, [s for ep in c["eps"] for s in ep["ass"] if s["factors"]])
    if s is None:
        return None
    s["factors"].append(_pick(g, s["factors"]))
    return [("8898", c["id"], f"factor {s['factors'][-1]} recorded twice on one assessment")]


def _b_factor_21_with_others(g, c):
    options = [(ep, s) for ep in c["eps"] for s in ep["ass"] if s["factors"] and "21" not in s["factors"]]
    if not options:
        return None
    ep, s = _pick(g, options)
    s["factors"].insert(int(g.rng.random() * (len(s["factors"]) + 1)), "21")
    found = [("8869", c["id"], "factor 21 (no factors) listed with other factors")]
    if len(ep["ass"]) == 1 and ep["reason"] not in ("RC8", "RC9"):
        found.append(("8873Q", c["id"], "factor 21 on an episode not closed RC8/RC9"))
    return found


def _b_factors_unauthorised(g, c):
    s = _pick(g, [s for ep in c["eps"] for s in ep["ass"] if s["auth"] is None and s["factors"] is None])
    if s is None:
        return None
    s["factors"] = g._factors()
    return [("8614", c["id"], "factors recorded on an assessment not yet authorised")]


def _b_assessment_overdue(g, c):
    cal = g.cal
    options = []
    for ep in c["eps"]:
        if ep["close"] is not None or any(s["auth"] is None for s in ep["ass"]):
            continue
        for s in ep["ass"]:
            if s["start"] < cal.ps or cal.wd(s["start"], cal.rd) <= 45:
                continue
            if any(o is not s and o["start"] >= s["start"] for o in ep["ass"]):
                continue
            if any(o is not s and s["start"] <= o["auth"] for o in ep["ass"]):
                continue
            options.append(s)
    s = _pick(g, options)
    if s is None:
        return None
    s["auth"] = s["factors"] = None
    return [("8670Q", c["id"], f"assessment started {cal.iso(s['start'])} still not authorised at the ReferenceDate")]


def _b_icpc_overdue(g, c):
    # an ICPC that started no plan is removed: 2883 still counts a conference for every plan
    cal = g.cal
    options = []
    for ep in c["eps"]:
        if ep["close"] is not None:
            continue
        for s in ep["s47"]:
            icpc = s["icpc"]
            if icpc.__class__ is not int or s["start"] < cal.ps or cal.wd(s["start"], cal.rd) <= 15:
                continue
            if any(p["start"] == icpc for p in ep["cpp"]):
                continue
            if any(o is not s and (o["start"] >= s["start"] or (o["icpc"] is None and o["notreq"] != "true"))
                   for o in ep["s47"]):
                continue
            options.append(s)
    s = _pick(g, options)
    if s is None:
        return None
    s["icpc"] = None
    s["notreq"] = "false"
    return [("8675Q", c["id"], f"section 47 started {cal.iso(s['start'])} has no ICPC at the ReferenceDate")]


def _b_episodes_overlap(g, c):
    options = []
    eps = c["eps"]
    for k in range(1, len(eps)):
        prev, ep = eps[k - 1], eps[k]
        if prev["close"] is None or prev["close"] - 1 <= prev["ref"]:
            continue
        new = prev["close"] - 1
        if c["birth"] is not None and c["birth"] - new > 280:
            continue
        if c["expected"] is not None and c["expected"] - new > 280:
            continue
        options.append((ep, new))
    if not options:
        return None
    ep, new = _pick(g, options)
    ep["ref"] = new
    return [("8820", c["id"], f"referral {g.cal.iso(new)} falls inside the previous episode")]


def _b_duplicate_id(g, c):
    donor = g.prev  # its own breach, if any, must have left its LAchildID alone
    if donor is None or donor.get("donor") or donor["id"] != donor["id0"]:
        return None
    donor["donor"] = True
    c["id"] = donor["id"]
    return [("8510", c["id"], "LAchildID given to two children (this one)"),
            ("8510", c["id"], "LAchildID given to two children (the child before)")]


def _b_missing_id(g, c):
    c["id"] = ""
    return [("8500", None, "LAchildID left empty")]


def _b_long_id(g, c):
    c["id"] = (c["id"] + "000000000000000000000")[:21 + int(g.rng.random() * 4)]
    return [("1570", c["id"], f"LAchildID of {len(c['id'])} characters")]


def _b_id_not_alphanumeric(g, c):
    mark = _pick(g, ["-", "_", "/", " ", "."])
    c["id"] = c["id"][:1] + mark + c["id"][1:]
    return [("1580", c["id"], f"LAchildID '{c['id']}' holds '{mark}'")]


def _b_upn_check_letter(g, c):
    if c["upn"] is None:
        return None
    letter = _pick(g, [x for x in _UPN_ALPHABET if x != c["upn"][0]])
    c["upn"] = letter + c["upn"][1:]
    return [("1510", c["id"], f"UPN {c['upn']} has the wrong check letter")]


def _b_upn_la_code(g, c):
    if c["upn"] is None:
        return None
    rest = _pick(g, list(_NOT_LA_CODES)) + c["upn"][4:]
    c["upn"] = upn_check_letter(rest) + rest  # the check letter is right: 1510 stays quiet
    return [("1530", c["id"], f"UPN {c['upn']} has LA code {rest[:3]}")]


def _b_upn_letter_in_digits(g, c):
    if c["upn"] is None:
        return None
    i = 4 + int(g.rng.random() * 8)
    c["upn"] = c["upn"][:i] + _pick(g, ["O", "I", "B"]) + c["upn"][i + 1:]
    return [("1540", c["id"], f"UPN {c['upn']} has a letter among characters 5-12")]


def _b_duplicate_upn(g, c):
    donor = g.prev  # its own breach, if any, must have left its UPN alone
    if donor is None or donor.get("donor") or donor["upn"] is None or donor["upn"] != donor["upn0"]:
        return None
    donor["donor"] = True
    c["upn"] = donor["upn"]
    c["unknown"] = None
    return [("1520", c["id"], f"UPN {c['upn']} shared with the child before"),
            ("1520", donor["id"] or None, f"UPN {c['upn']} shared with the child after")]


def _b_former_upn(g, c):
    if c["upn"] is None:
        return None
    bad = _pick(g, [c["upn"][:12], c["upn"][0].lower() + c["upn"][1:], c["upn"][:6] + "-" + c["upn"][6:12]])
    c["former"] = bad
    return [("1560Q", c["id"], f"FormerUPN '{bad}' is not in the UPN format")]


def _b_invalid_ethnicity(g, c):
    c["eth"] = _pick(g, ["WBR", "wbri", "WHITE", "ASIA", "XXXX"])
    return [("4220", c["id"], f"Ethnicity '{c['eth']}' is not a code")]


def _b_invalid_sex(g, c):
    if c["birth"] is None:
        return None
    if g.gender_tag == "GenderCurrent":
        c["sex"] = _pick(g, ["M", "F", "3", "male"])
    else:
        c["sex"] = _pick(g, ["m", "f", "Male", "X", "1"])
    return [("4180", c["id"], f"{g.gender_tag} '{c['sex']}' is not a code")]


def _b_unborn_sex(g, c):
    if c["birth"] is not None or c["expected"] is None:
        return None
    c["sex"] = _pick(g, ["1", "2"] if g.gender_tag == "GenderCurrent" else ["M", "F"])
    return [("8750", c["id"], f"unborn child with {g.gender_tag} {c['sex']}")]


def _b_none_with_other(g, c):
    if not c["dis"]:
        return None
    if c["dis"] == ["NONE"]:
        c["dis"].append(DISABILITY.draw(g.rng))
    else:
        c["dis"].insert(0, "NONE")
    return [("8790", c["id"], f"disability {code} recorded with NONE") for code in c["dis"] if code != "NONE"]


def _b_repeated_disability(g, c):
    if not c["dis"]:
        return None
    code = _pick(g, c["dis"])
    c["dis"].append(code)
    return [("8794", c["id"], f"disability {code} recorded twice")] * 2


def _b_invalid_disability(g, c):
    if c["birth"] is None or not c["dis"] or not _non_nfa(c):
        return None
    if c["dis"] == ["NONE"]:
        c["dis"] = [_pick(g, ["none", "NO", "N/A"])]
    else:
        c["dis"].append(_pick(g, ["ASD", "DYS", "ADHD", "SEN"]))
    return [("8540", c["id"], f"disability '{c['dis'][-1]}' is not a code")]


def _b_missing_disabilities(g, c):
    if c["birth"] is None or c["dis"] != ["NONE"] or not _non_nfa(c):
        return None
    c["dis"] = None
    return [("8540", c["id"], "no Disabilities for a child with a non-NFA referral")]


def _b_un7_open_case(g, c):
    if all(ep["nfa"] in _TRUE for ep in c["eps"]):
        return None
    c["upn"], c["unknown"] = None, "UN7"
    return [("8772", c["id"], "UPNunknown UN7 though a referral went further")]


def _b_school_age_un1(g, c):
    if c["birth"] is None or c["birth"] > g.cal.school_cutoff or not _non_nfa(c):
        return None
    c["upn"], c["unknown"] = None, "UN1"
    return [("8770Q", c["id"], "school-age child with no UPN and UPNunknown UN1")]


def _b_nfa_spelling(g, c):
    ep = _pick(g, [ep for ep in c["eps"] if ep["nfa"] in ("true", "false")])
    if ep is None:
        return None
    ep["nfa"] = _pick(g, ["True", "TRUE"] if ep["nfa"] == "true" else ["False", "FALSE"])
    return [("8568", c["id"], f"ReferralNFA spelt '{ep['nfa']}'")]


def _b_nfa_missing(g, c):
    # a non-NFA episode referred in the period (8569Q); not on a UN7 child (8772)
    if c["unknown"] == "UN7":
        return None
    ep = _pick(g, [ep for ep in _non_nfa(c) if ep["ref"] >= g.cal.ps])
    if ep is None:
        return None
    ep["nfa"] = None
    return [("8568", c["id"], "ReferralNFA left out")]


def _b_invalid_category(g, c):
    p = _pick(g, [p for ep in c["eps"] for p in ep["cpp"]])
    if p is None:
        return None
    bad = _pick(g, ["NEGLECT", "neg", "PHYS", "N/A"])
    if g.rng.random() < 0.5:
        p["init"] = bad
        return [("8905", c["id"], f"InitialCategoryOfAbuse '{bad}' is not a code")]
    p["latest"] = bad
    return [("8910", c["id"], f"LatestCategoryOfAbuse '{bad}' is not a code")]


def _b_previous_cpp_empty(g, c):
    p = _pick(g, [p for ep in c["eps"] for p in ep["cpp"]])
    if p is None:
        return None
    p["prev"] = ""
    return [("8730", c["id"], "NumberOfPreviousCPP left empty")]


def _b_invalid_date(g, c):
    options = [(p, i) for ep in c["eps"] for p in ep["cpp"] for i in range(len(p["reviews"]))]
    options += [(s, None) for ep in c["eps"] for s in ep["ass"] if s["auth"] is not None]
    if not options:
        return None
    record, i = _pick(g, options)
    if i is not None:
        record["reviews"][i] = bad = _bad_date(g, record["reviews"][i])
        where = "CPPreviewDate"
    else:
        record["review"] = bad = _bad_date(g, record["review"] or record["start"])
        where = "AssessmentInternalReviewDate"
    return [("SCHEMA", c["id"], f"{where} '{bad}' is not a date")]


def _b_out_of_order(g, c):
    options = [(c, ("PersonBirthDate", g.gender_tag)) if c["birth"] is not None
               else (c, ("ExpectedPersonBirthDate", g.gender_tag))]
    if c["upn"] is not None:
        options.append((c, ("LAchildID", "UPN")))
    options += [(ep, ("CINreferralDate", "ReferralSource")) for ep in c["eps"]]
    options += [(p, ("InitialCategoryOfAbuse", "LatestCategoryOfAbuse")) for ep in c["eps"] for p in ep["cpp"]]
    record, tags = _pick(g, options)
    record["swap"] = tags
    return [("SCHEMA", c["id"], f"{tags[1]} written before {tags[0]}")]


def _b_upn_short(g, c):
    if c["upn"] is None:
        return None
    c["upn"] = c["upn"][:12]
    return [("SCHEMA", c["id"], f"UPN {c['upn']} is 12 characters long")]


def _b_other_year_gender(g, c):
    if c["birth"] is None:
        return None
    if g.gender_tag == "GenderCurrent":
        c["extra"] = f"<Sex>{ {'1': 'M', '2': 'F'}.get(c['sex'], 'U') }</Sex>"
    else:
        c["extra"] = f"<GenderCurrent>{ {'M': '1', 'F': '2'}.get(c['sex'], '0') }</GenderCurrent>"
    return [("SCHEMA", c["id"], f"{c['extra'][1:c['extra'].index('>')]} (another year's element) added")]


def _pp_blocks(c: dict) -> list[dict]:
    return [p for ep in c["eps"] for p in ep["pp"]]


def _b_pp_letter_before_start(g, c):
    ps = g.cal.ps
    p = _pick(g, [p for p in _pp_blocks(c) if "LBPSentDate" in p and p["PPStartDate"] - 1 >= ps])
    if p is None:
        return None
    p["LBPSentDate"] = max(ps, p["PPStartDate"] - 1 - int(g.rng.random() * 10))
    return [("9006", c["id"], "letter before proceedings sent before pre-proceedings started")]


def _b_pp_no_offer(g, c):
    p = _pick(g, [p for p in _pp_blocks(c) if "LBPSentDate" in p and "FGDMMeetingOffer" in p])
    if p is None:
        return None
    del p["FGDMMeetingOffer"]
    return [("9007", c["id"], "letter before proceedings with no FGDMMeetingOffer")]


def _b_pp_no_facilitated(g, c):
    p = _pick(g, [p for p in _pp_blocks(c) if p.get("FGDMMeetingOffer") == "true" and "FGDMMeetingFac" in p])
    if p is None:
        return None
    del p["FGDMMeetingFac"]
    return [("9010Q", c["id"], "FGDM offered but FGDMMeetingFac missing")]


def _b_pp_outcome(g, c):
    p = _pick(g, [p for p in _pp_blocks(c) if "PPOutcome" in p])
    if p is None:
        return None
    p["PPOutcome"] = _pick(g, ["D", "a", "1"])
    return [("9011", c["id"], f"PPOutcome '{p['PPOutcome']}' is not a code")]


def _b_pp_court_before_step(g, c):
    ps = g.cal.ps
    p = _pick(g, [p for p in _pp_blocks(c) if "CourtAppDate" in p and p["StepDecisionDate"] - 1 >= ps])
    if p is None:
        return None
    p["CourtAppDate"] = max(ps, p["StepDecisionDate"] - 1 - int(g.rng.random() * 10))
    return [("9012", c["id"], "court application dated before the step decision")]


def _b_pp_no_review_count(g, c):
    p = _pick(g, [p for p in _pp_blocks(c) if "ReviewMeetingsCount" in p and "InitialPPMeetingDate" in p])
    if p is None:
        return None
    del p["ReviewMeetingsCount"]
    return [("9015Q", c["id"], "initial pre-proceedings meeting with no ReviewMeetingsCount")]


_LATER = ("2024-25", "2025-26", "2026-27")
_PP = ("2026-27",)

# (kind, weight, function, years or None for every year). A child's breach is drawn among the kinds
# that apply to it, by weight; breaches needing rarer records (plans, pre-proceedings, unborn
# children) weigh more so that each kind turns up, and schema-only breaches are about 14%.
_CATALOGUE = [
    ("missing-primary-need", 1, _b_missing_need, None),
    ("invalid-primary-need", 1, _b_invalid_need, None),
    ("invalid-referral-source", 1, _b_invalid_source, None),
    ("invalid-reason-for-closure", 2.5, _b_invalid_reason, None),
    ("missing-reason-for-closure", 2.5, _b_missing_reason, None),
    ("closure-before-referral", 14, _b_closure_before_referral, None),
    ("assessment-authorised-before-start", 1.5, _b_auth_before_start, None),
    ("assessment-before-referral", 1.5, _b_assessment_before_referral, None),
    ("section47-before-referral", 11, _b_s47_before_referral, None),
    ("icpc-on-weekend", 20, _b_icpc_weekend, None),
    ("icpc-target-on-weekend", 11, _b_target_weekend, None),
    ("plan-without-matching-icpc", 22, _b_cpp_without_icpc, None),
    ("cin-plan-starts-inside-protection-plan", 35, _b_cin_overlaps_cpp_end, None),
    ("protection-plan-starts-inside-cin-plan", 80, _b_cin_overlaps_cpp_start, None),
    ("cin-plan-ends-before-start", 8, _b_cin_end_before_start, None),
    ("protection-plan-ends-before-start", 80, _b_cpp_end_before_start, None),
    ("review-on-plan-start", 11, _b_review_on_start, None),
    ("repeated-factor", 1.5, _b_repeated_factor, None),
    ("factor-21-with-others", 1, _b_factor_21_with_others, None),
    ("factors-on-unauthorised-assessment", 11, _b_factors_unauthorised, None),
    ("assessment-overdue", 5, _b_assessment_overdue, None),
    ("icpc-overdue", 80, _b_icpc_overdue, None),
    ("episodes-overlap", 10, _b_episodes_overlap, None),
    ("duplicate-lachildid", 1, _b_duplicate_id, None),
    ("missing-lachildid", 1, _b_missing_id, None),
    ("lachildid-too-long", 1, _b_long_id, _LATER),
    ("lachildid-not-alphanumeric", 1, _b_id_not_alphanumeric, _LATER),
    ("upn-check-letter", 1.5, _b_upn_check_letter, None),
    ("upn-la-code", 1.5, _b_upn_la_code, None),
    ("upn-letter-in-digits", 1.5, _b_upn_letter_in_digits, None),
    ("duplicate-upn", 2, _b_duplicate_upn, None),
    ("former-upn-format", 1.5, _b_former_upn, None),
    ("invalid-ethnicity", 1, _b_invalid_ethnicity, None),
    ("invalid-sex", 1, _b_invalid_sex, None),
    ("unborn-sex-not-unknown", 70, _b_unborn_sex, None),
    ("disability-none-with-other", 1, _b_none_with_other, None),
    ("repeated-disability", 1, _b_repeated_disability, None),
    ("invalid-disability", 1, _b_invalid_disability, None),
    ("missing-disabilities", 1.5, _b_missing_disabilities, None),
    ("un7-with-further-action", 1, _b_un7_open_case, None),
    ("school-age-un1", 1.5, _b_school_age_un1, None),
    ("referral-nfa-spelling", 1, _b_nfa_spelling, None),
    ("referral-nfa-missing", 1.5, _b_nfa_missing, None),
    ("invalid-category-of-abuse", 9, _b_invalid_category, None),
    ("previous-cpp-empty", 9, _b_previous_cpp_empty, None),
    ("invalid-date", 3.5, _b_invalid_date, None),
    ("elements-out-of-order", 2.5, _b_out_of_order, None),
    ("upn-too-short", 2.5, _b_upn_short, None),
    ("other-year-gender-element", 1.5, _b_other_year_gender, None),
    ("pp-letter-before-start", 80, _b_pp_letter_before_start, _PP),
    ("pp-no-fgdm-offer", 70, _b_pp_no_offer, _PP),
    ("pp-no-fgdm-facilitated", 80, _b_pp_no_facilitated, _PP),
    ("pp-invalid-outcome", 80, _b_pp_outcome, _PP),
    ("pp-court-before-step-decision", 80, _b_pp_court_before_step, _PP),
    ("pp-no-review-count", 70, _b_pp_no_review_count, _PP),
]
