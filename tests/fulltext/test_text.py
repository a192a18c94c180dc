"""How both profiles read Portuguese words (atende.fulltext.text)."""

from __future__ import annotations

import pytest

from atende.fulltext.text import Terms, fold, highlight, stems


@pytest.mark.parametrize(("a", "b"), [
    ("boletos", "boleto"),
    ("configurações", "configuracao"),
    ("configuraçoes", "Configuração"),
    ("cartões", "cartao"),
    ("emissão", "emissao"),
    ("notificações", "notificacao"),
    ("SENHAS", "senha"),
    ("pagamentos", "Pagamento"),
])
def test_accents_case_and_plurals_meet_on_one_stem(a: str, b: str) -> None:
    assert stems(a) == stems(b)


def test_different_words_keep_different_stems() -> None:
    assert stems("conta") != stems("contrato")
    assert stems("boleto") != stems("boné")


def test_fold_restores_the_endings_typed_without_accents() -> None:
    assert fold("Nao recebi a notificacao do CARTAO") == "nao recebi a notificação do cartão"


def test_terms_leave_out_function_words_and_repeats() -> None:
    terms = Terms.parse("Como emitir a segunda via do boleto? boletos!")
    assert terms.words == ("emitir", "segunda", "via", "boleto")
    assert not Terms.parse("de a o que")


def test_highlight_marks_every_form_of_the_word_and_escapes_the_rest() -> None:
    snippet = highlight("<b>Oi</b>, os Boletos e o boleto vencido", Terms.parse("boleto").stems)
    assert snippet == ("&lt;b&gt;Oi&lt;/b&gt;, os <mark>Boletos</mark> e o "
                       "<mark>boleto</mark> vencido")


def test_highlight_opens_a_window_around_the_first_match() -> None:
    text = "palavra " * 100 + "reembolso aprovado " + "fim " * 100
    snippet = highlight(text, Terms.parse("reembolsos").stems, width=80)
    assert snippet.startswith("…") and snippet.endswith("…")
    assert "<mark>reembolso</mark>" in snippet
