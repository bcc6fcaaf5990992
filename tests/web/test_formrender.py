"""Task forms as HTML: every form in forms/ survives a trip through the browser, errors are shown where
the user looks, groups grow and shrink without JavaScript, and nothing the user typed runs as markup."""

from __future__ import annotations

import copy
import importlib
import json
import re
from pathlib import Path
from re import _constants as sre
from re import _parser as sre_parse

import lxml.html
import pytest
from werkzeug.datastructures import MultiDict

from forms.rules import fit
from forms.validation import editable, field_errors
from web.answers import display_answers
from web.formparse import added_row, parse_submission
from web.formrender import render_form

ROOT = Path(__file__).resolve().parents[2]
FORM_KEYS = sorted(path.stem for path in (ROOT / "forms").glob("*.json"))


def load(key: str) -> dict:
    return json.loads((ROOT / "forms" / f"{key}.json").read_text(encoding="utf-8"))


# --- What a browser does with the HTML ----------------------------------------------------------


def parse_html(html: str):
    return lxml.html.fromstring(f"<form>{html}</form>")


def browser_submission(html: str) -> MultiDict:
    """The successful controls, as a browser builds the form data set (buttons are left out: the
    page's own submit button is not part of the fields)."""
    pairs = []
    for element in parse_html(html).iter("input", "select", "textarea"):
        name = element.get("name")
        if not name or element.get("disabled") is not None:
            continue
        if element.tag == "input":
            kind = (element.get("type") or "text").lower()
            if kind in {"submit", "image", "reset", "button", "file"}:
                continue
            if kind in {"checkbox", "radio"} and element.get("checked") is None:
                continue
            value = element.get("value", "on" if kind in {"checkbox", "radio"} else "")
        elif element.tag == "select":
            options = element.findall(".//option")
            # With nothing selected, a one-line select shows and submits its first option.
            chosen = [o for o in options if o.get("selected") is not None][-1:] or options[:1]
            if not chosen:
                continue
            value = chosen[0].get("value", chosen[0].text_content())
        else:
            # The HTML parser drops a newline right after <textarea> (lxml does not).
            value = re.sub(r"^\r?\n", "", element.text or "")
        pairs.append((name, value.replace("\r\n", "\n").replace("\n", "\r\n")))
    return MultiDict(pairs)


def controls(html: str) -> dict[str, list]:
    found: dict[str, list] = {}
    for element in parse_html(html).iter("input", "select", "textarea"):
        found.setdefault(element.get("name"), []).append(element)
    return found


def assert_accessible(html: str) -> None:
    tree = parse_html(html)
    ids = [e.get("id") for e in tree.iter() if e.get("id")]
    assert len(ids) == len(set(ids)), "duplicate ids"
    labelled = {label.get("for") for label in tree.iter("label")}
    for element in tree.iter("input", "select", "textarea"):
        if element.get("type") in {"submit", "hidden"}:
            continue
        assert element.get("id") in labelled, f"no label for {element.get('name')}"
        assert element.get("id").startswith("field-") or element.get("name") == "_remove"
    for element in tree.iter():
        for ref in (element.get("aria-describedby") or "").split():
            assert ref in ids, f"aria-describedby points to a missing {ref}"
    for link in tree.iter("a"):
        assert link.get("href")[1:] in ids


# --- Data for every form ------------------------------------------------------------------------


def pattern_sample(pattern: str) -> str:
    """A string that matches a simple regular expression (literals, classes, repeats, groups)."""

    def build(items) -> str:
        out = []
        for op, arg in items:
            if op is sre.LITERAL:
                out.append(chr(arg))
            elif op is sre.IN:
                first_op, first = arg[0]
                if first_op is sre.RANGE:
                    out.append(chr(first[0]))
                elif first_op is sre.LITERAL:
                    out.append(chr(first))
                else:
                    out.append({sre.CATEGORY_DIGIT: "0", sre.CATEGORY_SPACE: " "}.get(first, "a"))
            elif op is sre.ANY:
                out.append("a")
            elif op in (sre.MAX_REPEAT, sre.MIN_REPEAT):
                low, _high, sub = arg
                out.append(build(sub) * max(low, 1))
            elif op is sre.SUBPATTERN:
                out.append(build(arg[-1]))
            elif op is sre.BRANCH:
                out.append(build(arg[1][0]))
            elif op is not sre.AT:
                raise NotImplementedError(f"add a sample for the pattern {pattern!r}")
        return "".join(out)

    sample = build(sre_parse.parse(pattern))
    assert re.search(pattern, sample), pattern
    return sample


def text_sample(spec: dict, multiline: bool) -> str:
    base = 'Café «ñ» <b>&amp;</b> "quoted" l\'été' + ("\nSecond line – 2 a.m." if multiline else "")
    text = base
    while len(text) < (spec.get("minLength") or 0):
        text += " " + base
    text = text[: spec.get("maxLength") or len(text)].strip()
    return text + "x" * max(0, (spec.get("minLength") or 0) - len(text))


def sample(spec: dict, full: bool):
    """A valid value: the first choice, the minimum, minItems lines; with `full`, every optional field
    too, fractional amounts, two lines, several choices, line breaks."""
    if "const" in spec:
        return spec["const"]
    if "enum" in spec:
        return spec["enum"][-1 if full else 0]
    kind = spec.get("type")
    if kind == "object":
        required = set(spec.get("required") or [])
        return {n: sample(s, full) for n, s in spec["properties"].items() if full or n in required}
    if kind == "array":
        items = spec["items"]
        count = max(spec.get("minItems") or 0, 2 if full else 1)
        count = min(count, spec.get("maxItems") or count)
        if "enum" in items:
            return items["enum"][:count]
        return [sample(items, full) for _ in range(count)]
    if kind in ("integer", "number"):
        low, high = spec.get("minimum", 0), spec.get("maximum")
        if full and kind == "number" and (high is None or low + 1.25 <= high):
            return low + 1.25
        return low
    if kind == "boolean":
        return full
    if spec.get("format") == "date":
        return "2025-09-15"
    if spec.get("format") == "email":
        return "focal.point@example.org"
    if "pattern" in spec:
        return pattern_sample(spec["pattern"])
    return text_sample(spec, full and spec.get("x-widget") == "textarea")


def spec_at(schema: dict, parts: list[str]) -> dict:
    for part in parts:
        schema = schema["items"] if part.isdigit() else schema["properties"][part]
    return schema


def valid_instance(schema: dict, full: bool) -> dict:
    """sample(), then what the conditions (`allOf` if/then) and the rules (`x-rules`) ask for: more
    fields, other bounds, lines that add up."""
    data = sample(schema, full)
    for _ in range(10):
        data = fit(schema, data)  # the cross-field rules: lines that add up, amounts within limits
        errors = field_errors(schema, data)
        if not errors:
            break
        for path, message in errors.items():
            parts = path.split(".")
            target = data
            for part in parts[:-1]:
                target = target[int(part) if part.isdigit() else part]
            bound = re.fullmatch(r"Must be at (?:least|most) (-?[\d.]+)\.", message)
            if message == "This field is required.":
                target[parts[-1]] = sample(spec_at(schema, parts), full)
            elif bound:
                target[parts[-1]] = json.loads(bound[1])
    assert field_errors(schema, data) == {}
    return data


def scenario_data() -> list[tuple[str, str, dict]]:
    """(form key, where, data) for every dict stored under a form key in tests/processes/scenarios*.py."""
    found: dict[tuple[str, str], tuple[str, str, dict]] = {}

    def walk(value, where: str) -> None:
        if isinstance(value, dict):
            for key, item in value.items():
                # Form data only: a message payload stored under a form key carries other fields.
                if key in FORM_KEYS and isinstance(item, dict) and set(item) <= set(FORMS[key]["properties"]):
                    found.setdefault((key, json.dumps(item, sort_keys=True, default=str)), (key, where, item))
                else:
                    walk(item, f"{where}.{key}")
        elif isinstance(value, (list, tuple)):
            for i, item in enumerate(value):
                walk(item, f"{where}.{i}")

    for path in sorted((ROOT / "tests" / "processes").glob("scenarios*.py")):
        module = importlib.import_module(f"tests.processes.{path.stem}")
        for name, value in vars(module).items():
            if name.isupper():
                walk(value, f"{path.stem}.{name}")
    return list(found.values())


# A form with what the forms in forms/ do not use yet: a nested object, a list of plain strings,
# yes/no radios, an e-mail, a whole-number enum, a group inside a group.
KITCHEN_SINK = {
    "type": "object",
    "required": ["contact", "focal_point_present"],
    "properties": {
        "contact": {
            "type": "object",
            "title": "Contact",
            "required": ["email"],
            "properties": {
                "email": {"type": "string", "format": "email", "title": "E-mail"},
                "phone": {"type": "string", "maxLength": 30, "title": "Phone"},
            },
        },
        "focal_point_present": {"type": "boolean", "x-widget": "radio", "title": "Focal point on site"},
        "priority": {"type": "integer", "enum": [1, 2, 3, 4, 5, 6], "title": "Priority"},
        "aliases": {"type": "array", "items": {"type": "string", "minLength": 2}, "title": "Other names"},
        "sites": {
            "type": "array",
            "minItems": 1,
            "title": "Sites",
            "items": {
                "type": "object",
                "required": ["name"],
                "properties": {
                    "name": {"type": "string", "title": "Site"},
                    "open": {"type": "boolean", "title": "Open"},
                    "shifts": {
                        "type": "array",
                        "title": "Shifts",
                        "items": {"type": "object", "properties": {"hours": {"type": "integer", "title": "Hours"}}},
                    },
                },
            },
        },
    },
}

FORMS = {key: load(key) for key in FORM_KEYS} | {"kitchen_sink": KITCHEN_SINK}
ROUND_TRIPS = (
    [pytest.param(key, "minimal", "en", id=f"{key}-minimal") for key in FORMS]
    + [pytest.param(key, "full", "es", id=f"{key}-full") for key in FORMS]
    + [pytest.param(key, where, "en", id=f"{key}-{where}") for key, where, _ in scenario_data()]
)


def instance(key: str, variant: str) -> dict:
    if variant in ("minimal", "full"):
        return valid_instance(FORMS[key], variant == "full")
    data = next(d for k, where, d in scenario_data() if k == key and where == variant)
    assert field_errors(FORMS[key], data) == {}
    return copy.deepcopy(data)


@pytest.mark.parametrize(("key", "variant", "language"), ROUND_TRIPS)
def test_every_form_survives_a_trip_through_the_browser(key, variant, language):
    schema, data = FORMS[key], instance(key, variant)
    html = render_form(schema, data, {}, language)
    assert_accessible(html)
    posted = browser_submission(html)
    assert parse_submission(schema, posted) == in_form_order(schema, editable(schema, data))


def in_form_order(schema: dict, data: dict) -> dict:
    """Ticked boxes come back in the order of the choices: a browser cannot say in which order they were ticked."""
    ordered = copy.deepcopy(data)
    for name, spec in schema["properties"].items():
        choices = spec.get("items", {}).get("enum")
        if choices and isinstance(ordered.get(name), list):
            ordered[name].sort(key=choices.index)
    return ordered


@pytest.mark.parametrize("key", FORM_KEYS)
def test_read_only_fields_are_text_and_never_read_back(key):
    schema = FORMS[key]
    readonly = [n for n, s in schema["properties"].items() if s.get("x-readonly")]
    data = valid_instance(schema, full=True)
    html = render_form(schema, data, {}, "en")
    assert not set(readonly) & set(controls(html))
    terms = [dt.text_content() for dt in parse_html(html).iter("dt")]
    for name in readonly:
        assert schema["properties"][name]["title"] in terms
    forged = browser_submission(html)
    for name in readonly:
        forged.add(name, "forged")
    assert not set(readonly) & set(parse_submission(schema, forged))


@pytest.mark.parametrize("key", FORM_KEYS)
def test_every_form_says_it_in_spanish(key):
    schema = FORMS[key]
    html = render_form(schema, valid_instance(schema, full=True), {}, "es")
    for spec in schema["properties"].values():
        assert (
            str(lxml.html.fromstring(f"<p>{spec['x-title-es']}</p>").text_content()) in parse_html(html).text_content()
        )


# --- Errors -------------------------------------------------------------------------------------


def refused_decision(language: str = "en"):
    schema = FORMS["mefm_decision"]
    form = MultiDict(
        [("csrf_token", "t"), ("decision", "approve_reduced"), ("approved_amount_usd", "240k"), ("_action", "x")]
    )
    data = parse_submission(schema, form)
    errors = field_errors(schema, data)
    return data, errors, render_form(schema, {"requested_amount_usd": 300_000, **data}, errors, language)


def test_a_refused_amount_is_shown_back_as_typed_with_its_message():
    data, errors, html = refused_decision()
    assert data == {"decision": "approve_reduced", "approved_amount_usd": "240k"}
    assert errors == {"approved_amount_usd": "Must be a number."}
    tree = parse_html(html)
    (amount,) = tree.xpath("//input[@name='approved_amount_usd']")
    assert amount.get("value") == "240k"
    # A number input would empty "240k": it is shown as text until corrected.
    assert amount.get("type") == "text"
    assert amount.get("aria-invalid") == "true"
    message = tree.get_element_by_id("error-approved_amount_usd")
    assert "Must be a number." in message.text_content()
    assert "error-approved_amount_usd" in amount.get("aria-describedby").split()
    assert "help-approved_amount_usd" in amount.get("aria-describedby").split()
    assert "field-error" in amount.getparent().get("class")
    (link,) = tree.xpath("//div[@class='error-summary']//a")
    assert link.get("href") == "#field-approved_amount_usd"
    assert link.text_content() == "Approved amount (USD): Must be a number."
    assert tree.xpath("//input[@name='decision'][@value='approve_reduced']")[0].get("checked") is not None
    assert "240,000" not in html and "300,000" in html


def test_only_always_required_fields_carry_the_required_attribute():
    _, _, html = refused_decision()
    found = controls(html)
    assert all(radio.get("required") is not None for radio in found["decision"])
    # Required only when the decision is "approve_reduced" / "return" / "reject" (allOf if/then).
    assert found["approved_amount_usd"][0].get("required") is None
    assert found["comments"][0].get("required") is None
    assert html.count('class="req"') == 1


def test_errors_inside_a_group_link_to_their_line_and_form_errors_go_on_top():
    schema = FORMS["mefm_request_start"]
    data = instance("mefm_request_start", "minimal") | {"typename": "x"}
    data["activities"][0]["cost_usd"] = "lots"
    errors = field_errors(schema, data) | {"": "The request changed meanwhile."}
    tree = parse_html(render_form(schema, data, errors, "en"))
    summary = tree.xpath("//div[@class='error-summary']//li")
    texts = [li.text_content() for li in summary]
    assert texts[0] == "The request changed meanwhile."
    assert any("typename" in t for t in texts)
    link = tree.xpath("//div[@class='error-summary']//a[@href='#field-activities-0-cost_usd']")[0]
    assert link.text_content() == "Activities for the first weeks – Line 1 – Cost (USD): Must be a number."
    assert tree.get_element_by_id("field-activities-0-cost_usd").get("value") == "lots"


def test_a_group_error_sits_on_the_group():
    schema = FORMS["mefm_request_start"]
    data = instance("mefm_request_start", "minimal") | {"activities": []}
    tree = parse_html(render_form(schema, data, field_errors(schema, data), "en"))
    group = tree.get_element_by_id("field-activities")
    assert group.tag == "fieldset" and "field-error" in group.get("class")
    assert "Give at least 1." in tree.get_element_by_id("error-activities").text_content()


def test_an_impossible_date_is_shown_back_as_text():
    schema = FORMS["mefm_finance_allocation"]
    data = {"allocation_date": "30/02/2025"}
    html = render_form(schema, data, field_errors(schema, data), "en")
    (field,) = controls(html)["allocation_date"]
    assert (field.get("type"), field.get("value")) == ("text", "30/02/2025")


def test_a_select_holding_an_unknown_value_asks_again():
    schema = FORMS["mefm_request_start"]
    (select,) = controls(render_form(schema, {"crisis_type": "meteor"}, {}, "en"))["crisis_type"]
    assert select.findall("option")[0].get("value") == ""
    assert not [o for o in select.findall("option") if o.get("selected") is not None]


# --- Languages ----------------------------------------------------------------------------------


def test_labels_help_and_choices_in_spanish():
    _, _, html = refused_decision("es")
    text = parse_html(html).text_content()
    for phrase in ("Decisión", "Aprobar un monto reducido", "Monto aprobado (USD)", "obligatorio", "Hay un problema"):
        assert phrase in text
    assert "300\u00a0000" in text
    assert "Approve" not in text


def test_spanish_falls_back_to_english_then_to_the_value():
    schema = copy.deepcopy(FORMS["mefm_decision"])
    del schema["properties"]["comments"]["x-title-es"]
    del schema["properties"]["decision"]["x-enum-labels"]["es"]["reject"]
    del schema["properties"]["decision"]["x-enum-labels"]["en"]["return"]
    del schema["properties"]["decision"]["x-enum-labels"]["es"]["return"]
    text = parse_html(render_form(schema, {}, {}, "es")).text_content()
    assert "Comments" in text and "Reject" in text and "return" in text and "Aprobar" in text


# --- Repeated groups ----------------------------------------------------------------------------


def activity(i: int, sector: str = "wash", activity: str = "Water trucking", cost: str = "1000") -> list:
    return [
        (f"activities.{i}.sector", sector),
        (f"activities.{i}.activity", activity),
        (f"activities.{i}.cost_usd", cost),
    ]


def test_blank_and_removed_lines_are_dropped_and_the_rest_renumbered():
    form = MultiDict(
        activity(0, activity="First")
        + activity(2, sector="", activity="  ", cost="")
        + activity(10, activity="Tenth", cost="2500.5")
        + activity(3, activity="Third")
        + activity(4, activity="Removed")
        + [("_remove", "activities.4")]
    )
    data = parse_submission(FORMS["mefm_request_start"], form)
    assert data["activities"] == [
        {"sector": "wash", "activity": "First", "cost_usd": 1000},
        {"sector": "wash", "activity": "Third", "cost_usd": 1000},
        {"sector": "wash", "activity": "Tenth", "cost_usd": 2500.5},
    ]


def test_add_a_line_gives_one_more_blank_line():
    schema = FORMS["mefm_request_start"]
    form = MultiDict(activity(0) + activity(1, sector="", activity="", cost="") + [("_add", "activities")])
    assert added_row(form) == "activities"
    assert added_row(MultiDict([("title", "x")])) is None
    data = parse_submission(schema, form)
    assert len(data["activities"]) == 1
    before = parse_html(render_form(schema, data, {}, "en")).xpath("//fieldset[@id='field-activities']/fieldset")
    after = parse_html(render_form(schema, data, {}, "en", extra_rows={"activities": 1}))
    rows = after.xpath("//fieldset[@id='field-activities']/fieldset")
    assert (len(before), len(rows)) == (2, 3)
    assert [r.get("id") for r in rows] == ["field-activities-0", "field-activities-1", "field-activities-2"]
    assert after.xpath("//button[@name='_add']")[0].get("value") == "activities"
    assert after.xpath("//button[@name='_add']")[0].get("formnovalidate") is not None
    assert after.xpath("//input[@name='_remove']/@value") == ["activities.0", "activities.1", "activities.2"]


def test_min_items_lines_are_rendered_and_max_items_stops_adding():
    schema = copy.deepcopy(FORMS["mefm_request_start"])
    schema["properties"]["activities"] |= {"minItems": 3, "maxItems": 4}
    tree = parse_html(render_form(schema, {}, {}, "en"))
    assert len(tree.xpath("//fieldset[@id='field-activities']/fieldset")) == 3
    full = {"activities": [{"sector": "wash", "activity": "Water", "cost_usd": 1}] * 4}
    tree = parse_html(render_form(schema, full, {}, "en", extra_rows={"activities": 1}))
    assert len(tree.xpath("//fieldset[@id='field-activities']/fieldset")) == 4
    assert not tree.xpath("//button[@name='_add']")


def test_help_text_shows_once_per_group():
    schema = FORMS["mefm_request_start"]
    html = render_form(schema, {}, {}, "en", extra_rows={"activities": 2})
    assert html.count("The cost of this activity over the bridge period") == 1
    (cost,) = controls(html)["activities.2.cost_usd"]
    assert cost.get("aria-describedby") == "help-activities-0-cost_usd"


def test_a_list_of_plain_strings_repeats_text_inputs():
    form = MultiDict([("aliases.0", " Marisol "), ("aliases.1", ""), ("aliases.2", "María"), ("_remove", "aliases.3")])
    form.add("aliases.3", "gone")
    assert parse_submission(KITCHEN_SINK, form)["aliases"] == ["Marisol", "María"]
    html = render_form(KITCHEN_SINK, {"aliases": ["Marisol"]}, {}, "en")
    assert [e.get("value") for e in controls(html)["aliases.0"]] == ["Marisol"]
    assert "aliases.1" in controls(html)


# --- Reading a submission -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("typed", "read"),
    [
        ("240000", 240000),
        ("-5", -5),
        ("12.50", 12.5),
        (" 7 ", 7),
        ("1,000", "1,000"),
        ("1 000", "1 000"),
        ("1e5", "1e5"),
        ("1.2.3", "1.2.3"),
        ("9" * 40, "9" * 40),
    ],
)
def test_numbers_are_read_only_when_plainly_written(typed, read):
    data = parse_submission(FORMS["mefm_decision"], MultiDict([("approved_amount_usd", typed)]))
    assert data["approved_amount_usd"] == read
    assert type(data["approved_amount_usd"]) is type(read)


def test_a_whole_number_with_a_decimal_point_is_read_as_whole_and_a_fraction_is_refused():
    schema = FORMS["endorsement_start"]
    assert parse_submission(schema, MultiDict([("duration_months", "6.0")]))["duration_months"] == 6
    data = parse_submission(schema, MultiDict([("duration_months", "6.5")]))
    assert field_errors(schema, data)["duration_months"] == "Must be a whole number."


def test_empty_fields_are_left_out_so_validation_names_them():
    schema = FORMS["mefm_finance_allocation"]
    data = parse_submission(schema, MultiDict([("project_code", "  "), ("finance_comments", ""), ("x", "1")]))
    assert data == {}
    assert field_errors(schema, data)["project_code"] == "This field is required."


def test_checkboxes_and_yes_no_radios():
    schema = FORMS["endorsement_start"]
    assert parse_submission(schema, MultiDict())["multi_country"] is False
    assert parse_submission(schema, MultiDict([("multi_country", "true")]))["multi_country"] is True
    # "I sign": an unticked box is a missing answer, not a "no".
    confirm = FORMS["mefm_com_submission"]
    assert parse_submission(confirm, MultiDict()) == {}
    (box,) = controls(render_form(confirm, {}, {}, "en"))["com_confirmation"]
    assert box.get("required") is not None
    (box,) = controls(render_form(schema, {}, {}, "en"))["multi_country"]
    assert box.get("required") is None
    assert "focal_point_present" not in parse_submission(KITCHEN_SINK, MultiDict())
    no = MultiDict([("focal_point_present", "false")])
    assert parse_submission(KITCHEN_SINK, no)["focal_point_present"] is False


def test_choices_keep_their_type_and_unknown_ones_are_refused():
    data = parse_submission(KITCHEN_SINK, MultiDict([("priority", "3")]))
    assert data["priority"] == 3
    schema = FORMS["endorsement_start"]
    data = parse_submission(schema, MultiDict([("sectors", "wash"), ("sectors", "health"), ("sectors", "spa")]))
    assert data["sectors"] == ["wash", "health", "spa"]
    errors = field_errors(schema, data)
    assert "sectors.2" in errors
    tree = parse_html(render_form(schema, data, errors, "en"))
    assert errors["sectors.2"] in tree.get_element_by_id("error-sectors").text_content()
    assert "#field-sectors" in tree.xpath("//div[@class='error-summary']//a/@href")


def test_control_fields_never_reach_the_data():
    form = MultiDict([("csrf_token", "t"), ("_add", "activities"), ("_remove", "activities.0"), ("_action", "save")])
    form.add("decision", "approve")
    assert parse_submission(FORMS["mefm_decision"], form) == {"decision": "approve"}


def test_line_breaks_come_back_as_the_user_typed_them():
    data = parse_submission(FORMS["mefm_decision"], MultiDict([("comments", "One\r\nTwo\rThree\x00")]))
    assert data["comments"] == "One\nTwo\nThree"


# --- Escaping -----------------------------------------------------------------------------------

HOSTILE = "<script>alert('x')</script>"


def test_hostile_values_and_labels_come_out_escaped():
    schema = copy.deepcopy(FORMS["mefm_decision"])
    schema["properties"]["comments"]["title"] = HOSTILE
    schema["properties"]["comments"]["description"] = HOSTILE
    schema["properties"]["decision"]["x-enum-labels"]["en"]["reject"] = HOSTILE
    values = {"approver_title": HOSTILE, "comments": HOSTILE, "decision": HOSTILE}
    errors = {"comments": HOSTILE, "": HOSTILE, HOSTILE: HOSTILE}
    for html in (
        render_form(schema, values, errors, "en"),
        display_answers(schema, values | {"decision": "reject"}, "en"),
        render_form(KITCHEN_SINK, {"sites": [{"name": HOSTILE}], "aliases": [HOSTILE]}, {}, "en"),
    ):
        assert "<script>" not in html
        assert "&lt;script&gt;" in html
    posted = browser_submission(render_form(schema, values, {}, "en"))
    assert parse_submission(schema, posted)["comments"] == HOSTILE


# --- The earlier answers panel ------------------------------------------------------------------


def test_earlier_answers_are_a_readable_summary():
    from tests.processes.scenarios import PANAMA_DARIEN

    schema = FORMS["mefm_request_start"]
    data = PANAMA_DARIEN["mefm"]["mefm_request_start"] | {"not_in_form": "hidden"}
    tree = parse_html(display_answers(schema, data, "en"))
    text = tree.text_content()
    assert "Amount requested (USD)" in text and "300,000" in text
    assert "Mixed migration flow" in text and "1 Aug 2025" in text
    assert "hidden" not in text and not tree.xpath("//input")
    table = tree.xpath("//table")[0]
    assert [th.text_content() for th in table.xpath(".//th")] == ["Sector", "Activity", "Cost (USD)"]
    assert len(table.xpath(".//tbody/tr")) == 5
    es = parse_html(display_answers(schema, data, "es")).text_content()
    assert "300\u00a0000" in es and "1 ago 2025" in es and "Flujo migratorio mixto" in es
    assert display_answers(schema, {"not_in_form": 1}, "en") == ""
