"""The parts of the platform's contract not confirmed yet (CONTRACTS.md §4: the answer's
path and body, the envelope keys, the header names), as channel settings with defaults,
so a first real connection can fix them without a code change (docs/consumidor.md)."""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any

PRODUCTION_URL = "https://api.consumidor.gov.br/api/servico"
TRAINING_URL = "https://api-treinamento.consumidor.gov.br/api/servico"


@dataclass(frozen=True)
class ApiConfig:
    base_url: str = PRODUCTION_URL
    token_path: str = "/seguranca/empresa/token"  # noqa: S105 - a path, not a secret
    list_path: str = "/reclamacoes/listar"
    detail_path: str = "/reclamacao/{protocolo}/detalhe"
    # Unknown: the answer's path and the field its text goes in.
    respond_path: str = "/reclamacao/{protocolo}/responder"
    respond_text_field: str = "texto"
    # Unknown: how a complaint is marked "Em Análise pelo Gestor"; empty: not called.
    analysis_path: str = ""
    version_header: str = "versao"
    api_version: str = "1.0"
    cpf_header: str = "cpfAutorizado"
    # Unknown envelope keys; empty: the first list (listing) / the first object holding a
    # `protocolo` (detail), as the public client code reads them.
    list_key: str = ""
    detail_key: str = ""
    # Unknown: the trâmite type names that carry the consumer's evaluation and the
    # company's answers (normalised, compared without accents and case).
    evaluation_type: str = "avaliacao"
    company_author: str = "empresa"
    # "platform": the published API hours; "always": a server without them (the fake the
    # demo runs; the training server, if it has none: unknown).
    hours: str = "platform"

    @classmethod
    def of(cls, settings: dict[str, Any]) -> ApiConfig:
        """The channel's `api` settings over the defaults (unknown keys ignored)."""
        api = settings.get("api")
        given: dict[str, Any] = api if isinstance(api, dict) else {}
        names = {f.name for f in fields(cls)}
        return cls(**{k: str(v) for k, v in given.items() if k in names and v not in (None, "")})


def unknowns() -> list[str]:
    """The settings a first real connection should confirm (listed in docs/consumidor.md)."""
    return ["respond_path", "respond_text_field", "analysis_path", "list_key", "detail_key",
            "evaluation_type", "company_author", "version_header", "cpf_header", "hours"]
