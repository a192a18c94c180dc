from atende.ids import MAX_ID, parse_id


def test_ascii_digits_within_a_bigint_are_ids() -> None:
    assert parse_id("42") == 42
    assert parse_id(" 7 ") == 7
    assert parse_id("0") == 0
    assert parse_id(str(MAX_ID)) == MAX_ID


def test_anything_else_is_none() -> None:
    # "²" and "①" pass str.isdigit() and fail int(); "١٢" passes both.
    for text in ("", " ", "-1", "+1", "1.0", "1e3", "0x10", "²", "①", "١٢", "12a",
                 str(MAX_ID + 1), "9" * 40, "1_000"):
        assert parse_id(text) is None, text
