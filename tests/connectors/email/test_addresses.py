"""The plain-address fast path gives what `email.utils` gives."""

from __future__ import annotations

from email.utils import getaddresses, parseaddr

from hypothesis import given, settings
from hypothesis import strategies as st

from atende.connectors.email import addresses

# Names and addresses from pieces that matter: letters with and without accents, digits,
# every special of RFC 5322, quotes, and spaces of several kinds.
NAME = st.lists(st.sampled_from([
    *"AaJoãçé09_-'+", " ", "  ", "\t", "\u00a0", ".", ",", '"', "(", ")", ":", ";", "<", ">",
    "@", "[", "]", "\\", "\x01"]), max_size=14).map("".join)
ATOM = st.text(alphabet=st.sampled_from(list("abZ09._+-=!#'")), min_size=1, max_size=8)
ADDRESS = st.builds(lambda local, domain: f"{local}@{domain}", ATOM, ATOM)
VALUE = st.one_of(
    ADDRESS,
    st.builds(lambda name, address, gap: f"{name}{gap}<{address}>", NAME, ADDRESS,
              st.sampled_from([" ", "", "  "])),
    st.builds(lambda a, b: f"{a}, {b}", ADDRESS, ADDRESS),
    NAME,
)


@settings(max_examples=1500, deadline=None)
@given(VALUE)
def test_one_value_parses_as_parseaddr(value: str) -> None:
    assert addresses.parse_address(value) == parseaddr(value)


@settings(max_examples=500, deadline=None)
@given(st.lists(VALUE, max_size=3))
def test_values_parse_as_getaddresses(values: list[str]) -> None:
    assert addresses.address_list(values) == getaddresses(values)


def test_the_plain_cases_take_the_fast_path() -> None:
    for value, expected in [
        ("João Silva <joao.9@cliente.example.com.br>",
         ("João Silva", "joao.9@cliente.example.com.br")),
        ("suporte@empresa.example.com", ("", "suporte@empresa.example.com")),
        ("Ana <A.B+c@X.example>", ("Ana", "A.B+c@X.example")),
    ]:
        assert addresses._PLAIN.fullmatch(value)
        assert addresses.parse_address(value) == expected == parseaddr(value)
    for value in ("J. Silva <a@b.c>", '"Silva, Ana" <a@b.c>', "Ana  Silva <a@b.c>", "a@b, c@d"):
        assert not addresses._PLAIN.fullmatch(value)


def test_spacing_inside_a_name_is_as_parseaddr_reads_it() -> None:
    # It splits words on spaces and tabs only: a no-break space stays inside a word.
    for gap in (" ", "  ", "\t", "\n", "\u00a0", "\u2003", " \t "):
        value = f"Ana{gap}Silva <ana@example.com>"
        assert addresses.parse_address(value) == parseaddr(value), repr(gap)
        assert addresses.address_list([value]) == getaddresses([value]), repr(gap)
