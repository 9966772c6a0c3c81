"""Codat's query and orderBy language over plain JSON records."""

from __future__ import annotations

from typing import Any

import pytest

from cloud.api.query import QueryError, compile_order_by, compile_query, select

INVOICE: dict[str, Any] = {
    "id": "inv-1",
    "customerName": "Acme Ltd",
    "status": "Active",
    "totalAmount": 120.5,
    "amountDue": 9,
    "invoiceNumber": "100",
    "issueDate": "2026-01-31T00:00:00",
    "note": None,
    "customerRef": {"id": "cust-7", "companyName": "Acme Ltd"},
    "metadata": {"isDeleted": False},
    "addresses": [
        {"type": "Billing", "city": "London"},
        {"type": "Delivery", "city": "Leeds", "line2": None},
    ],
    "tags": ["vip", "Net30"],
    "lines": [
        {"tracking": {"categoryRefs": [{"id": "dept-1"}, {"id": "dept-2"}]}},
        {"tracking": {"categoryRefs": []}},
    ],
    "emptyList": [],
}

DATASET: dict[str, Any] = {
    "id": "ds-1",
    "dataType": "invoices",
    "status": "Complete",
    "requested": "2026-11-29T01:37:36.575483Z",
    "completed": "2026-11-29T01:40:00.1234567Z",
    "progress": 100,
    "isCompleted": True,
}


def matches(query: str, record: dict[str, Any] = INVOICE) -> bool:
    return compile_query(query)(record)


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("status=Active", True),
        ("status=Archived", False),
        ("status!=Archived", True),
        ("status!=Active", False),
        ("customerName~cme", True),
        ("customerName~xyz", False),
        ("totalAmount>120", True),
        ("totalAmount>120.5", False),
        ("totalAmount<121", True),
        ("totalAmount<120.5", False),
        ("totalAmount>=120.5", True),
        ("totalAmount>=121", False),
        ("totalAmount<=120.5", True),
        ("totalAmount<=120", False),
    ],
)
def test_every_operator(query: str, expected: bool) -> None:
    assert matches(query) is expected


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        # 9 > 10 is false as numbers but true as text ("9" > "1").
        ("amountDue>10", False),
        ("amountDue<10", True),
        ("totalAmount=120.50", True),
        ("totalAmount=1.205e2", True),
        ("amountDue=+9", True),
        ("amountDue!=9.0", False),
        ("totalAmount=abc", False),
        ("totalAmount!=abc", True),
        ("totalAmount~20.", True),
    ],
)
def test_numbers_compare_numerically(query: str, expected: bool) -> None:
    assert matches(query) is expected


def test_large_integers_stay_exact() -> None:
    record = {"big": 2**60 + 1}
    assert matches(f"big={2**60 + 1}", record)
    assert not matches(f"big={2**60}", record)


def test_a_json_string_of_digits_compares_as_text() -> None:
    # "100" > "99" is false ordinally; an invoice number is not a quantity.
    assert not matches("invoiceNumber>99")
    assert matches("invoiceNumber=100")
    assert not matches("invoiceNumber=100.0")


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("metadata.isDeleted=false", True),
        ("metadata.isDeleted=FALSE", True),
        ("metadata.isDeleted=true", False),
        ("metadata.isDeleted!=true", True),
        ("metadata.isDeleted=0", False),
        ("metadata.isDeleted~fal", True),
    ],
)
def test_booleans(query: str, expected: bool) -> None:
    assert matches(query) is expected


def test_the_text_true_matches_a_boolean_true_and_a_string_true() -> None:
    assert matches("isCompleted=true", DATASET)
    assert matches("flag=True", {"flag": "true"})


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("issueDate=2026-01-31", True),
        ("issueDate=2026-01-31T00:00:00Z", True),
        ("issueDate=2026-01-31T01:00:00+01:00", True),
        ("issueDate=2026-01-30T19:30:00-04:30", True),
        ("issueDate=2026-01-31T05:30:00+0530", True),
        ("issueDate=2026-01-31T05:00:00+0530", False),
        ("issueDate>2026-01-30", True),
        ("issueDate>2026-01-31", False),
        ("issueDate>=2026-01-31", True),
        ("issueDate<2026-02-01T00:00:00.000001", True),
        ("issueDate<2026-01-31", False),
        # As text "2026-01-31T00:00:00" > "2026-01-31 23:59"; as dates it is earlier.
        ("issueDate<2026-01-31 23:59", True),
    ],
)
def test_dates_compare_chronologically(query: str, expected: bool) -> None:
    assert matches(query) is expected


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("requested>2026-11-29", True),
        ("requested<2026-11-29T01:37:37", True),
        ("requested>2026-11-29T01:37:36.575482Z", True),
        ("requested=2026-11-29T01:37:36.575483", True),
        ("requested<2026-11-29T02:37:36+01:00", False),
        ("completed>2026-11-29T01:40:00.123456Z", False),
        ("completed=2026-11-29T01:40:00.123456Z", True),
    ],
)
def test_dataset_timestamps(query: str, expected: bool) -> None:
    assert matches(query, DATASET) is expected


def test_only_well_formed_dates_are_dates() -> None:
    # Compact dates and impossible months are text, which orders differently.
    assert matches("ref>2026-01-01", {"ref": "2026-13-01"})
    assert not matches("ref=2026-01-31", {"ref": "20260131"})
    assert not matches("ref>2026-1", {"ref": "2026-01-31"})


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("customerName=acme ltd", True),
        ("customerName=ACME LTD", True),
        ("customerName!=acme ltd", False),
        ("customerName~ACME", True),
        ("customerName>acme", True),
        ("customerName>=acme ltd", True),
        ("customerName<b", True),
        ("customerName<Acme", False),
    ],
)
def test_strings_ignore_case(query: str, expected: bool) -> None:
    assert matches(query) is expected


def test_string_order_is_ordinal_not_natural() -> None:
    assert matches("code<item2", {"code": "item10"})
    # Ordinal on folded text: "a" sorts before "Z", which plain ordinal would reverse.
    assert matches("code<Z", {"code": "a"})
    assert not matches("code>Z", {"code": "a"})


@pytest.mark.parametrize(
    ("record", "expected"),
    [
        ({"a": 1, "b": 0, "c": 0}, True),
        ({"a": 0, "b": 2, "c": 0}, False),
        ({"a": 0, "b": 2, "c": 3}, True),
        ({"a": 0, "b": 0, "c": 3}, False),
    ],
)
def test_and_binds_tighter_than_or(record: dict[str, Any], expected: bool) -> None:
    assert matches("a=1||b=2&&c=3", record) is expected
    assert matches("b=2&&c=3||a=1", record) is expected


@pytest.mark.parametrize(
    ("record", "expected"),
    [
        ({"a": 1, "b": 0, "c": 0}, False),
        ({"a": 1, "b": 0, "c": 3}, True),
        ({"a": 0, "b": 2, "c": 3}, True),
        ({"a": 0, "b": 0, "c": 3}, False),
    ],
)
def test_braces_group(record: dict[str, Any], expected: bool) -> None:
    assert matches("{a=1||b=2}&&c=3", record) is expected
    assert matches("{ { a = 1 } || {b=2} } && {c=3}", record) is expected


def test_codat_documented_example() -> None:
    query = "{totalAmount > 100 || totalAmount < 50} && status != paid"
    assert matches(query, {"totalAmount": 120, "status": "Open"})
    assert matches(query, {"totalAmount": 20, "status": "Open"})
    assert not matches(query, {"totalAmount": 70, "status": "Open"})
    assert not matches(query, {"totalAmount": 120, "status": "Paid"})


def test_spaces_around_operators_and_combinators() -> None:
    assert matches("status = Active && totalAmount > 100")
    assert matches("  status=Active   ||   totalAmount>1000  ")
    assert not matches("status = Active && totalAmount > 200")


def test_unquoted_values_keep_inner_spaces_and_end_at_a_brace() -> None:
    assert matches("customerName = Acme Ltd ")
    assert matches("{customerName=Acme Ltd}&&status=Active")
    assert matches("customerName~e L")


def test_quoted_values_may_hold_the_delimiters() -> None:
    record = {"name": 'Tom && Jerry || {Co} "Ltd"'}
    assert matches('name="Tom && Jerry || {Co} \\"Ltd\\""', record)
    assert matches('name ~ "&& Jerry" && name~Tom', record)
    assert matches('name=""', {"name": ""})
    assert not matches('name=" Tom"', {"name": "Tom"})


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("customerRef.id=cust-7", True),
        ("customerRef.id=cust-8", False),
        ("customerRef.companyName~acme", True),
        ("customerRef.missing=x", False),
        ("status.length=6", False),
    ],
)
def test_dotted_paths(query: str, expected: bool) -> None:
    assert matches(query) is expected


def test_deeply_dotted_paths() -> None:
    nested = {"a": {"b": {"c": "deep"}}}
    assert matches("a.b.c=deep", nested)
    assert not matches("a.b.c=deep", {"a": {"b": "deep"}})
    assert matches("a.b.c!=deep", {"a": {"b": {}}})


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("addresses.city=Leeds", True),
        ("addresses.city=London", True),
        ("addresses.city=Paris", False),
        ("addresses.city!=Paris", True),
        ("addresses.city!=Leeds", False),
        ("addresses.type~deliv", True),
        ("tags=VIP", True),
        ("tags=net30", True),
        ("tags!=vip", False),
        ("tags=other", False),
        ("lines.tracking.categoryRefs.id=dept-2", True),
        ("lines.tracking.categoryRefs.id=dept-3", False),
        ("addresses.line2=null", True),
        ("addresses.line1=null", True),
        ("emptyList=null", False),
        ("emptyList!=null", True),
        ("emptyList=x", False),
        ("emptyList!=x", True),
    ],
)
def test_paths_through_lists_match_any_element(query: str, expected: bool) -> None:
    assert matches(query) is expected


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("absent=x", False),
        ("absent~x", False),
        ("absent>0", False),
        ("absent<0", False),
        ("absent>=0", False),
        ("absent<=0", False),
        ("absent!=x", True),
        ("absent=null", True),
        ("absent!=null", False),
        ("metadata.absent!=x", True),
    ],
)
def test_missing_properties(query: str, expected: bool) -> None:
    assert matches(query) is expected


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("note=null", True),
        ("note=NULL", True),
        ("note!=null", False),
        ("note=x", False),
        ("note!=x", True),
        ("note~n", False),
        ("status=null", False),
        ("status!=null", True),
        ("metadata.isDeleted!=null", True),
        ("customerRef=null", False),
    ],
)
def test_null(query: str, expected: bool) -> None:
    assert matches(query) is expected


def test_a_quoted_null_is_the_word_null() -> None:
    assert matches('word="null"', {"word": "Null"})
    assert not matches('word="null"', {"word": None})
    assert not matches('word="null"', {})


def test_property_names_ignore_case() -> None:
    assert matches("CUSTOMERNAME=Acme Ltd")
    assert matches("Metadata.IsDeleted=false")
    assert matches("addresses.CITY=leeds")


def test_an_exact_property_name_wins_over_a_case_variant() -> None:
    record = {"Status": "Open", "status": "Paid"}
    assert matches("status=Paid", record)
    assert matches("Status=Open", record)


def test_a_compiled_query_is_reusable_and_reads_mappings() -> None:
    predicate = compile_query("status=Active")
    assert [predicate(r) for r in ({"status": "Active"}, {"status": "x"}, {})] == [
        True,
        False,
        False,
    ]


@pytest.mark.parametrize(
    ("query", "position", "words"),
    [
        ("{status=Active", 0, "never closed"),
        ("{a=1&&{b=2}", 0, "never closed"),
        ("status=Active}", 13, "no matching '{'"),
        ("{a=1}}", 5, "no matching '{'"),
        ("status", 6, "expected an operator"),
        ("status Active", 6, "expected an operator"),
        ("a=1&&status!Active", 11, "expected an operator"),
        ("=Active", 0, "expected a condition"),
        ("  = Active", 2, "expected a condition"),
        ("status=Active&&", 15, "expected a condition"),
        ("status=Active ||  ", 18, "expected a condition"),
        ("&&status=Active", 0, "expected a condition"),
        ("a=1&&&&b=2", 5, "expected a condition"),
        ("{}", 1, "expected a condition"),
        ("", 0, "expected a condition"),
        ("status=", 7, "missing value"),
        ("status= && a=1", 8, "missing value"),
        ("metadata..isDeleted=true", 0, "not a property path"),
        (".id=1", 0, "not a property path"),
        ('name="Acme', 5, "never closed"),
        ('name="Acme" Ltd', 12, "after the quoted value"),
        ("total>null", 0, "null can only"),
        ("total~null", 0, "null can only"),
    ],
)
def test_syntax_errors_say_what_and_where(query: str, position: int, words: str) -> None:
    with pytest.raises(QueryError, match=words) as caught:
        compile_query(query)
    assert caught.value.position == position
    assert f"position {position + 1}" in str(caught.value)


def test_errors_quote_the_fragment_and_are_value_errors() -> None:
    with pytest.raises(ValueError, match="near 'Active'"):
        compile_query("status Active")
    with pytest.raises(QueryError, match="at the end of the query"):
        compile_query("status=Active&&")


def test_deep_nesting_and_long_queries_are_refused_not_crashed() -> None:
    with pytest.raises(QueryError, match="nest deeper"):
        compile_query("{" * 200 + "a=1" + "}" * 200)
    assert matches("{" * 30 + "a=1" + "}" * 30, {"a": 1})
    with pytest.raises(QueryError, match="longer than 2048"):
        compile_query("a=" + "x" * 2047)
    assert matches("a=" + "x" * 2046, {"a": "x" * 2046})


def ids(records: list[dict[str, Any]]) -> list[str]:
    return [str(r["id"]) for r in records]


ROWS: list[dict[str, Any]] = [
    {"id": "a", "amount": 9, "name": "beta", "date": "2026-02-01T00:00:00", "ref": {"n": 2}},
    {"id": "b", "amount": 100, "name": "Alpha", "date": "2026-01-31", "ref": {"n": 1}},
    {"id": "c", "name": None, "date": "2025-12-31T23:00:00-02:00"},
    {"id": "d", "amount": 10.5, "name": "gamma", "date": "2026-01-31T12:00:00Z", "ref": {}},
    {"id": "e", "amount": 9, "name": "ALPHA"},
]


@pytest.mark.parametrize(
    ("order_by", "expected"),
    [
        ("amount", ["a", "e", "d", "b", "c"]),
        ("+amount", ["a", "e", "d", "b", "c"]),
        (" amount", ["a", "e", "d", "b", "c"]),
        ("-amount", ["b", "d", "a", "e", "c"]),
        ("- amount ", ["b", "d", "a", "e", "c"]),
        ("name", ["b", "e", "a", "d", "c"]),
        ("-name", ["d", "a", "b", "e", "c"]),
        # c is 2026-01-01T01:00Z once its offset is applied, so it is not the earliest text.
        ("date", ["c", "b", "d", "a", "e"]),
        ("-date", ["a", "d", "b", "c", "e"]),
        ("ref.n", ["b", "a", "c", "d", "e"]),
        ("-REF.N", ["a", "b", "c", "d", "e"]),
        ("absent", ["a", "b", "c", "d", "e"]),
        ("-absent", ["a", "b", "c", "d", "e"]),
    ],
)
def test_order_by(order_by: str, expected: list[str]) -> None:
    assert ids(compile_order_by(order_by)(list(ROWS))) == expected


def test_order_by_is_stable_both_ways() -> None:
    rows = [{"id": str(i), "k": i % 2} for i in range(8)]
    assert ids(compile_order_by("k")(rows)) == ["0", "2", "4", "6", "1", "3", "5", "7"]
    assert ids(compile_order_by("-k")(rows)) == ["1", "3", "5", "7", "0", "2", "4", "6"]


def test_order_by_numbers_are_not_sorted_as_text() -> None:
    rows = [{"id": "x", "n": 100}, {"id": "y", "n": 20}, {"id": "z", "n": 3.5}]
    assert ids(compile_order_by("n")(rows)) == ["z", "y", "x"]


def test_order_by_a_list_path_uses_the_first_value() -> None:
    rows: list[dict[str, Any]] = [
        {"id": "x", "lines": [{"n": 5}, {"n": 1}]},
        {"id": "y", "lines": [{"n": None}, {"n": 3}]},
        {"id": "z", "lines": []},
    ]
    assert ids(compile_order_by("lines.n")(rows)) == ["y", "x", "z"]


def test_order_by_leaves_the_input_alone() -> None:
    rows = list(ROWS)
    compile_order_by("-amount")(rows)
    assert rows == ROWS


@pytest.mark.parametrize("order_by", ["", "  ", "-", "+", "a..b", "amount,name", "-{a}"])
def test_order_by_errors(order_by: str) -> None:
    with pytest.raises(QueryError, match="Invalid orderBy"):
        compile_order_by(order_by)


def test_select_filters_then_sorts() -> None:
    chosen = select(iter(ROWS), query="amount>=9 && name!=gamma", order_by="-name")
    assert ids(chosen) == ["a", "b", "e"]


@pytest.mark.parametrize("blank", [None, "", "   "])
def test_select_treats_blank_parameters_as_absent(blank: str | None) -> None:
    assert ids(select(ROWS, query=blank, order_by=blank)) == ["a", "b", "c", "d", "e"]
    assert ids(select(ROWS, query=blank, order_by="amount")) == ["a", "e", "d", "b", "c"]
    assert ids(select(ROWS, query="amount=9", order_by=blank)) == ["a", "e"]


def test_select_rejects_bad_parameters_even_without_records() -> None:
    with pytest.raises(QueryError):
        select([], query="status", order_by=None)
    with pytest.raises(QueryError):
        select([], query=None, order_by="a..b")
