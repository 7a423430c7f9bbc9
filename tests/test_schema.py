"""The schema stage: one XSD per year, the tolerance decisions, plain messages, line and path."""

import pytest
from lxml import etree

from validator.examples import header_xml
from validator.load import load
from validator.schema import code_lists, normalise_path, validate_tree
from validator.years import CollectionYear, all_years


def child(year: str, identifiers: str = "", episode: str = "", characteristics: str = "") -> str:
    gender = "<GenderCurrent>1</GenderCurrent>" if year == "2023-24" else "<Sex>M</Sex>"
    ids = identifiers or f"<LAchildID>C1</LAchildID><PersonBirthDate>2015-01-01</PersonBirthDate>{gender}"
    episode = episode or ("<CINdetails><CINreferralDate>2024-06-02</CINreferralDate><ReferralSource>1A"
                          "</ReferralSource><ReferralNFA>true</ReferralNFA></CINdetails>")
    return (f"<Child><ChildIdentifiers>{ids}</ChildIdentifiers><ChildCharacteristics>"
            f"{characteristics or '<Ethnicity>WBRI</Ethnicity>'}</ChildCharacteristics>{episode}</Child>")


def check(year: str, children: str, header: str | None = None):
    collection = CollectionYear(year)
    text = f"<Message>\n{header if header is not None else header_xml(collection)}\n<Children>\n{children}\n</Children>\n</Message>"
    document = load(text.encode(), year=year)
    return validate_tree(document.tree, collection)


def episode(*parts: str, nfa: str = "false") -> str:
    before = "".join(p for p in parts if not p.startswith("<ChildProtectionPlans"))
    after = "".join(p for p in parts if p.startswith("<ChildProtectionPlans"))
    return (f"<CINdetails><CINreferralDate>2024-06-02</CINreferralDate><ReferralSource>1A</ReferralSource>"
            f"<PrimaryNeedCode>N1</PrimaryNeedCode>{before}<ReferralNFA>{nfa}</ReferralNFA>{after}</CINdetails>")


CPP = ("<ChildProtectionPlans><CPPstartDate>2024-07-01</CPPstartDate><InitialCategoryOfAbuse>NEG"
       "</InitialCategoryOfAbuse><LatestCategoryOfAbuse>NEG</LatestCategoryOfAbuse>"
       "<NumberOfPreviousCPP>{n}</NumberOfPreviousCPP>{reviews}</ChildProtectionPlans>")


@pytest.mark.parametrize("year", [y.name for y in all_years()])
def test_a_plain_child_is_valid_in_every_year(year):
    assert check(year, child(year)) == []


@pytest.mark.parametrize("spelling", ["true", "false", "1", "0", " true ", "\n0\n"])
def test_boolean_spellings_accepted(spelling):
    assert check("2024-25", child("2024-25", episode=episode(nfa=spelling))) == []


@pytest.mark.parametrize("spelling", ["TRUE", "False", "yes", "Y"])
def test_other_boolean_spellings_are_type_errors(spelling):
    findings = check("2024-25", child("2024-25", episode=episode(nfa=spelling)))
    assert len(findings) == 1
    assert findings[0].message == f"ReferralNFA has '{spelling}', which is not true, false, 1 or 0 (in lower case)."
    assert findings[0].path == "/Message/Children/Child[1]/CINdetails[1]/ReferralNFA"
    assert findings[0].line == 4


def test_previous_cpp_may_be_zero_but_not_negative():
    assert check("2024-25", child("2024-25", episode=episode(CPP.format(n=0, reviews="")))) == []
    findings = check("2024-25", child("2024-25", episode=episode(CPP.format(n=-1, reviews=""))))
    assert [f.values for f in findings] == [{"NumberOfPreviousCPP": "-1"}]


def test_reviews_may_repeat_but_need_a_date():
    reviews = "<Reviews><CPPreviewDate>2024-08-01</CPPreviewDate></Reviews>" * 2
    assert check("2024-25", child("2024-25", episode=episode(CPP.format(n=0, reviews=reviews)))) == []
    findings = check("2024-25", child("2024-25", episode=episode(CPP.format(n=0, reviews="<Reviews/>"))))
    assert "Reviews is missing a required element: CPPreviewDate." == findings[0].message


def assessment(factors: str) -> str:
    return ("<Assessments><AssessmentActualStartDate>2024-06-03</AssessmentActualStartDate>"
            "<AssessmentAuthorisationDate>2024-07-01</AssessmentAuthorisationDate>"
            f"<FactorsIdentifiedAtAssessment>{factors}</FactorsIdentifiedAtAssessment></Assessments>")


@pytest.mark.parametrize("factors", ["", "<AssessmentFactors>18A</AssessmentFactors>",
                                     "<AssessmentFactors>19A</AssessmentFactors>",
                                     "<AssessmentFactors> 8B </AssessmentFactors><AssessmentFactors>24A</AssessmentFactors>"])
def test_factor_tolerances(factors):
    assert check("2024-25", child("2024-25", episode=episode(assessment(factors)))) == []


def test_factor_8a_is_rejected_with_a_plain_message():
    findings = check("2024-25", child("2024-25", episode=episode(assessment("<AssessmentFactors>8A</AssessmentFactors>"))))
    assert len(findings) == 1
    assert findings[0].message.startswith("AssessmentFactors has '8A', which is not a valid code")
    assert findings[0].path.endswith("/Assessments[1]/FactorsIdentifiedAtAssessment/AssessmentFactors[1]")


def test_codes_are_case_sensitive_but_may_be_padded():
    assert check("2024-25", child("2024-25", characteristics="<Ethnicity> WBRI </Ethnicity>")) == []
    findings = check("2024-25", child("2024-25", characteristics="<Ethnicity>wbri</Ethnicity>"))
    assert findings[0].message.startswith("Ethnicity has 'wbri', which is not a valid code")


def test_upn_length_only():
    ids = "<LAchildID>C1</LAchildID><UPN>NOT A REAL UPN</UPN><PersonBirthDate>2015-01-01</PersonBirthDate><Sex>M</Sex>"
    findings = check("2024-25", child("2024-25", identifiers=ids))
    assert [f.message for f in findings] == ["UPN 'NOT A REAL UPN' has 14 characters; it must have exactly 13."]
    ids = ids.replace("NOT A REAL UPN", "ANYTHING13CHR")
    assert check("2024-25", child("2024-25", identifiers=ids)) == []


def test_gender_element_follows_the_year():
    findings = check("2024-25", child("2023-24"))
    assert "GenderCurrent is not part of the 2024-25 return (it belongs to 2023-24)." in [f.message for f in findings]
    findings = check("2023-24", child("2024-25"))
    assert any(f.message.startswith("Sex is not part of the 2023-24 return") for f in findings)


def test_pre_proceedings_only_in_2026_27():
    block = "<PreProceedingsandFGDM><PPStartDate>2026-05-01</PPStartDate><FGDMMeetingOffer>1</FGDMMeetingOffer></PreProceedingsandFGDM>"
    text = child("2026-27", episode=episode().replace("</CINdetails>", block + "</CINdetails>"))
    assert check("2026-27", text) == []
    findings = check("2025-26", text)
    assert [f.message for f in findings] == ["PreProceedingsandFGDM is not part of the 2025-26 return (it belongs to 2026-27)."]


def test_header_is_required_and_content_is_unknown():
    findings = check("2024-25", child("2024-25"), header="")
    assert findings[0].message == "Children is out of place; at this point the return expects Header."
    with_content = header_xml(CollectionYear("2024-25")).replace("</Header>", "<Content/></Header>")
    assert check("2024-25", child("2024-25"), header=with_content)[0].message == "Content is not part of the 2024-25 return."


def test_bad_dates_are_reported_in_words():
    text = child("2024-25", episode=episode().replace("2024-06-02", "2024-02-30"))
    findings = check("2024-25", text)
    assert findings[0].message == "CINreferralDate has '2024-02-30', which is not a date written YYYY-MM-DD."
    assert findings[0].values == {"CINreferralDate": "2024-02-30"}


def test_paths_always_index_repeating_elements():
    assert normalise_path("/Message/Children/Child/CINdetails/ReferralNFA") == \
        "/Message/Children/Child[1]/CINdetails[1]/ReferralNFA"
    assert normalise_path("/Message/Children/Child[3]/CINdetails[2]") == "/Message/Children/Child[3]/CINdetails[2]"


def test_code_lists_come_from_the_xsd_with_labels():
    lists = code_lists("2024-25")
    assert len(lists["EthnicityCode"].codes) == 20
    assert len(lists["AssessmentFactorCode"].codes) == 44
    assert "8A" not in lists["AssessmentFactorCode"].codes
    assert {"18A", "19A", "8B", "8F", "24A"} <= set(lists["AssessmentFactorCode"].codes)
    assert lists["SexCode"].codes == ("M", "F", "U")
    assert "GenderCurrentCode" in code_lists("2023-24") and "SexCode" not in code_lists("2023-24")
    assert lists["EthnicityCode"].labels["WBRI"]


def test_schemas_parse_with_lxml():
    for year in all_years():
        etree.XMLSchema(etree.parse(f"schemas/cin-{year.name}.xsd"))
