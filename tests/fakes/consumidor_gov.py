"""A fake Consumidor.gov.br company API on 127.0.0.1, implementing CONTRACTS.md §4.

What it does, as the platform is documented to:
- `POST /seguranca/empresa/token` with `client_id, client_secret, code,
  grant_type=client_credentials` as a form → `{"access_token": …}`, valid until 23:59:59 of
  the fake's day in Brasília; an expired or unknown token answers 401;
- every other call needs `Authorization: Bearer`, the `versao` header and the authorised
  user's CPF in `cpfAutorizado` (else 400/403 with a `codigo` + `mensagem` pair);
- `GET /reclamacoes/listar?dataIniPeriodo=DD-MM-YYYY&dataFimPeriodo=DD-MM-YYYY` (by the
  opening day) and `GET /reclamacao/{protocolo}/detalhe`, in the envelopes public client
  code reads (the list first, the complaint second);
- the answer (`POST /reclamacao/{protocolo}/responder`, `{"texto": …}`; its real path is not
  public, so it is configurable in the app and here): the first one moves the complaint
  to "Respondida", later ones are complements and change nothing; a complaint evaluated
  refuses answers;
- the API hours (Mon-Fri 12-14 h and 17-22 h, weekends all day, Brasília): outside them
  every call is refused with 503 (`refusals` counts them);
- a clock the test moves (`set_time`, `advance`), and injected faults (`fail_next(502)`).

The consumer's side is driven by the test: `new_complaint`, `consumer_complements`,
`consumer_evaluates`.
"""

from __future__ import annotations

import itertools
import json
import secrets
import threading
from collections import deque
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from http.server import ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo

from tests.fakes.served import ServedFake

BRASILIA = ZoneInfo("America/Sao_Paulo")
CLIENT_ID = "atende-acme"
CODE = "c0d1g0-aut"
PASSWORD = "s3nha-aut"
CPF = "52998224725"  # a valid CPF (check digits) for the authorised user
JSON = "application/json;charset=UTF-8"


def brasilia(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=BRASILIA)


def fmt(at: datetime) -> str:
    return at.astimezone(BRASILIA).strftime("%d/%m/%Y %H:%M:%S")


def api_open(at: datetime) -> bool:
    local = at.astimezone(BRASILIA)
    if local.weekday() >= 5:
        return True
    return time(12) <= local.time() < time(14) or time(17) <= local.time() < time(22)


@dataclass
class FakeConsumidorGov(ServedFake):
    # A Tuesday at 12:30 in Brasília: inside a window.
    now: datetime = field(default_factory=lambda: brasilia(2026, 12, 8, 12, 30))
    enforce_hours: bool = True
    live_clock: bool = False  # run by hand: the real time, not a clock a test moves
    port: int = 0
    respond_path: str = "/reclamacao/{protocolo}/responder"
    complaints: dict[str, dict[str, Any]] = field(default_factory=dict)
    tokens: dict[str, datetime] = field(default_factory=dict)  # token → expiry
    answers: list[dict[str, Any]] = field(default_factory=list)  # what the company sent
    requests: list[str] = field(default_factory=list)  # "METHOD path" of every call
    refusals: int = 0
    _protocols: itertools.count[int] = field(default_factory=lambda: itertools.count(1))
    _faults: deque[int] = field(default_factory=deque)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _server: ThreadingHTTPServer | None = None

    # --- test controls --------------------------------------------------------------------

    def set_time(self, at: datetime) -> None:
        self.now = at

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)

    def fail_next(self, status: int, times: int = 1) -> None:
        with self._lock:
            self._faults.extend([status] * times)

    def expire_tokens(self) -> None:
        """Every token issued so far expires now (as at midnight)."""
        self.tokens = dict.fromkeys(self.tokens, self.now - timedelta(seconds=1))

    def new_complaint(self, *, text: str = "Fui cobrada duas vezes pela mensalidade.",
                      request: str = "Estorno do valor", name: str = "Maria Souza",
                      cpf: str = "12345678909", area: str = "Telecomunicações",
                      subject: str = "Internet Fixa", problem: str = "Cobrança indevida",
                      email: str = "maria@example.com", at: datetime | None = None,
                      days: int = 10) -> str:
        """A consumer files a complaint; returns its protocol."""
        at = at or self.now
        protocol = f"{at:%Y%m%d}{next(self._protocols):06d}"
        self.complaints[protocol] = {
            "protocolo": protocol, "situacao": {"codigo": 1, "descricao": "Aberta"},
            "meioConsumo": {"descricao": "Internet"},
            "dataAbertura": fmt(at),
            "prazo": fmt(datetime.combine((at + timedelta(days=days)).date(),
                                          time(23, 59, 59), tzinfo=BRASILIA)),
            "nomeCampoPrazo": "Prazo para resposta",
            "area": {"descricao": area}, "assunto": {"descricao": subject},
            "problema": {"descricao": problem},
            "reclamante": {"nome": name, "documento": cpf, "estado": "SP",
                           "cidade": "São Paulo", "emails": [{"email": email}],
                           "telefones": [{"ddd": "11", "telefone": "987654321"}]},
            "reclamado": {"nome": "ACME LTDA", "nomeFantasia": "ACME",
                          "documento": "12345678000199"},
            "tramites": [self._tramite(protocol, 1, "Reclamação", "Consumidor", at, [
                ("Relato", text), ("Pedido", request)])],
        }
        return protocol

    def consumer_complements(self, protocol: str, text: str,
                             at: datetime | None = None) -> None:
        complaint = self.complaints[protocol]
        complaint["tramites"].append(self._tramite(
            protocol, len(complaint["tramites"]) + 1, "Complemento", "Consumidor",
            at or self.now, [("Comentário", text)]))

    def consumer_evaluates(self, protocol: str, *, resolved: bool, score: int,
                           comment: str = "", at: datetime | None = None) -> None:
        complaint = self.complaints[protocol]
        tramite = self._tramite(protocol, len(complaint["tramites"]) + 1, "Avaliação",
                                "Consumidor", at or self.now, [("Comentário", comment)])
        tramite["avaliacao"] = {"resolvida": "S" if resolved else "N", "nota": score}
        complaint["tramites"].append(tramite)
        complaint["situacao"] = {"codigo": 5, "descricao": "Finalizada avaliada"}

    def status_of(self, protocol: str) -> str:
        return str(self.complaints[protocol]["situacao"]["descricao"])

    @staticmethod
    def _tramite(protocol: str, number: int, kind: str, author: str, at: datetime,
                 texts: list[tuple[str, str]]) -> dict[str, Any]:
        return {"codigo": number, "tipo": {"codigo": number, "descricao": kind},
                "data": fmt(at), "autor": author, "protocoloReclamacao": protocol,
                "textos": [{"tipo": {"descricao": t}, "texto": v} for t, v in texts]}

    # --- the API --------------------------------------------------------------------------

    def handle(self, method: str, path: str, headers: dict[str, str],
               body: bytes) -> tuple[int, Any, str]:
        parts = urlsplit(path)
        if self.live_clock:
            self.now = datetime.now(BRASILIA)
        with self._lock:
            self.requests.append(f"{method} {parts.path}")
            fault = self._faults.popleft() if self._faults else None
        if self.enforce_hours and not api_open(self.now):
            self.refusals += 1
            return 503, _error("HORARIO", "Serviço disponível de segunda a sexta das 12h às "
                               "14h e das 17h às 22h, e aos sábados e domingos."), JSON
        if fault is not None:
            return fault, _error("ERRO", "Erro interno"), JSON
        route = parts.path.removeprefix("/api/servico")
        if method == "POST" and route == "/seguranca/empresa/token":
            return self._token(body)
        refused = self._check(headers)
        if refused is not None:
            return refused
        query = {k: v[0] for k, v in parse_qs(parts.query).items()}
        if method == "GET" and route == "/reclamacoes/listar":
            return self._list(query)
        for protocol, complaint in self.complaints.items():
            if method == "GET" and route == f"/reclamacao/{protocol}/detalhe":
                return 200, {"mensagem": "OK", "reclamacao": complaint}, JSON
            if method == "POST" and route == self.respond_path.format(protocolo=protocol):
                return self._respond(complaint, body)
        return 404, _error("NAO_ENCONTRADO", "Recurso não encontrado"), JSON

    def _token(self, body: bytes) -> tuple[int, Any, str]:
        form = {k: v[0] for k, v in parse_qs(body.decode()).items()}
        if (form.get("client_id"), form.get("client_secret"), form.get("code"),
                form.get("grant_type")) != (CLIENT_ID, PASSWORD, CODE, "client_credentials"):
            return 401, _error("CREDENCIAIS", "Credenciais inválidas"), JSON
        token = secrets.token_hex(16)
        local = self.now.astimezone(BRASILIA)
        self.tokens[token] = datetime.combine(local.date(), time(23, 59, 59),
                                              tzinfo=BRASILIA)
        return 200, {"access_token": token, "token_type": "bearer"}, JSON

    def _check(self, headers: dict[str, str]) -> tuple[int, Any, str] | None:
        token = headers.get("authorization", "").removeprefix("Bearer ").strip()
        if token not in self.tokens or self.tokens[token] < self.now:
            return 401, _error("TOKEN", "Token inválido ou expirado"), JSON
        if headers.get("versao") != "1.0":
            return 400, _error("VERSAO", "Versão da API não informada"), JSON
        if headers.get("cpfautorizado") != CPF:
            return 403, _error("CPF", "CPF não autorizado para a empresa"), JSON
        return None

    def _list(self, query: dict[str, str]) -> tuple[int, Any, str]:
        try:
            start = datetime.strptime(query["dataIniPeriodo"], "%d-%m-%Y").date()
            end = datetime.strptime(query["dataFimPeriodo"], "%d-%m-%Y").date()
        except (KeyError, ValueError):
            return 400, _error("PERIODO", "Período inválido"), JSON
        found = [{k: c[k] for k in ("protocolo", "situacao", "prazo", "dataAbertura")}
                 for c in self.complaints.values()
                 if start <= _day(c["dataAbertura"]) <= end]
        return 200, {"reclamacoes": found}, JSON

    def _respond(self, complaint: dict[str, Any], body: bytes) -> tuple[int, Any, str]:
        try:
            text = str(json.loads(body or b"{}").get("texto") or "")
        except ValueError:
            text = ""
        if not text.strip():
            return 400, _error("TEXTO", "Texto da resposta obrigatório"), JSON
        if complaint["situacao"]["descricao"].startswith("Finalizada"):
            return 422, _error("FINALIZADA", "Reclamação finalizada"), JSON
        first = not any(t["autor"] == "Empresa" for t in complaint["tramites"])
        kind = "Resposta" if first else "Complemento"
        number = len(complaint["tramites"]) + 1
        complaint["tramites"].append(self._tramite(
            complaint["protocolo"], number, kind, "Empresa", self.now, [(kind, text)]))
        if first:
            complaint["situacao"] = {"codigo": 3, "descricao": "Respondida"}
        self.answers.append({"protocolo": complaint["protocolo"], "texto": text,
                             "at": self.now, "codigo": number})
        return 200, {"mensagem": "OK", "codigo": number}, JSON


def _error(code: str, message: str) -> dict[str, str]:
    return {"codigo": code, "mensagem": message}


def _day(value: str) -> date:
    return datetime.strptime(value, "%d/%m/%Y %H:%M:%S").date()


def main() -> None:
    """`python -m tests.fakes.consumidor_gov [port]`: the fake for `atende demo
    --fake-channels`, at any hour, a new complaint every two minutes."""
    import sys
    import time as clock

    port = int(sys.argv[1]) if len(sys.argv) > 1 else 8765
    fake = FakeConsumidorGov(enforce_hours=False, live_clock=True, port=port)
    fake.now = datetime.now(BRASILIA)
    fake.start()
    print(f"Fake Consumidor.gov.br at {fake.url}/api/servico (Ctrl-C stops it)", flush=True)
    samples = ["Fui cobrada duas vezes pela mensalidade.", "O produto não foi entregue.",
               "Cancelei o plano e a cobrança continua."]
    try:
        for n in itertools.count():
            fake.now = datetime.now(BRASILIA)
            protocol = fake.new_complaint(text=samples[n % len(samples)])
            print(f"New complaint {protocol}", flush=True)
            clock.sleep(120)
    except KeyboardInterrupt:
        fake.stop()


if __name__ == "__main__":
    main()
