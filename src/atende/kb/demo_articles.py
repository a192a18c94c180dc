"""The demo organisation's help centre: a dozen articles a Brazilian desk would publish.

Also the corpus of the relevance test set (tests/kb/test_relevance.py)."""

from __future__ import annotations

from django.db import transaction

from atende.kb.models import Article, ArticleStatus, Audience, Category, Language
from atende.kb.services import Version, save_article

CATEGORIES = (("Pagamentos e boletos", "Payments and invoices"),
              ("Acesso e senha", "Access and password"),
              ("Pedidos e entregas", "Orders and deliveries"),
              ("Conta e cadastro", "Account and profile"))

# (category index, slug, title, body HTML, audience)
ARTICLES = (
    (0, "segunda-via-do-boleto", "Como emitir a segunda via do boleto",
     "<p>Perdeu o boleto ou ele venceu? Acesse <strong>Minha conta &gt; Financeiro</strong> e "
     "clique em <em>Gerar segunda via</em>. O novo boleto já vem com a data de vencimento "
     "atualizada, multa e juros calculados.</p><p>O código de barras pode ser pago em "
     "qualquer banco, lotérica ou aplicativo.</p>", Audience.PUBLIC),
    (0, "pagamento-com-pix", "Pagamento por Pix: prazos e comprovante",
     "<p>O pagamento por Pix é confirmado em poucos minutos, inclusive nos fins de semana. "
     "Guarde o comprovante com o identificador da transação.</p><p>Se a confirmação não "
     "aparecer em uma hora, envie o comprovante pelo portal.</p>", Audience.PUBLIC),
    (0, "cartao-de-credito-recusado", "Cartão de crédito recusado no pagamento",
     "<p>Quando o cartão é recusado, confira a validade, o código de segurança e o limite "
     "disponível. Alguns bancos bloqueiam compras on-line até que você as libere no "
     "aplicativo do banco.</p><ul><li>Tente outro cartão</li><li>Ou pague por Pix ou "
     "boleto</li></ul>", Audience.PUBLIC),
    (0, "nota-fiscal", "Onde encontro a nota fiscal da minha compra",
     "<p>A nota fiscal eletrônica (NF-e) é enviada por e-mail quando o pedido é faturado. "
     "Você também pode baixá-la em <strong>Meus pedidos</strong>, no detalhe do pedido.</p>",
     Audience.PUBLIC),
    (1, "redefinir-senha", "Esqueci minha senha: como redefinir",
     "<p>Na tela de entrada, clique em <em>Esqueci minha senha</em> e informe seu e-mail. "
     "Enviaremos um link válido por 30 minutos.</p><p>Não recebeu? Verifique a caixa de spam "
     "e as configurações de filtro do seu e-mail.</p>", Audience.PUBLIC),
    (1, "verificacao-em-duas-etapas", "Ativar a verificação em duas etapas",
     "<p>Proteja sua conta com um código do aplicativo autenticador. Em <strong>Minha conta "
     "&gt; Segurança</strong>, escolha <em>Verificação em duas etapas</em> e leia o QR code "
     "com o celular.</p>", Audience.PUBLIC),
    (2, "rastrear-pedido", "Como rastrear meu pedido",
     "<p>Assim que o pedido é despachado, enviamos o código de rastreamento por e-mail e "
     "WhatsApp. Acompanhe a entrega no site da transportadora ou em <strong>Meus "
     "pedidos</strong>.</p>", Audience.PUBLIC),
    (2, "prazo-de-entrega", "Prazo de entrega e frete para todo o Brasil",
     "<p>O prazo de entrega começa a contar após a confirmação do pagamento. Capitais recebem "
     "em até 5 dias úteis; demais cidades em até 12 dias úteis. O frete é calculado pelo "
     "CEP no carrinho.</p>", Audience.PUBLIC),
    (2, "troca-e-devolucao", "Trocas e devoluções em até 7 dias",
     "<p>Pelo Código de Defesa do Consumidor, compras feitas pela internet podem ser "
     "devolvidas em até 7 dias após o recebimento. Solicite a devolução em <strong>Meus "
     "pedidos</strong>; o reembolso é feito no mesmo meio de pagamento.</p>",
     Audience.PUBLIC),
    (3, "alterar-endereco", "Alterar endereço de entrega e dados cadastrais",
     "<p>Em <strong>Minha conta &gt; Endereços</strong> você cadastra novos endereços e escolhe "
     "o principal. Pedidos já despachados não mudam de endereço.</p>", Audience.PUBLIC),
    (3, "cancelar-assinatura", "Como cancelar a assinatura",
     "<p>O cancelamento da assinatura pode ser feito a qualquer momento em <strong>Minha "
     "conta &gt; Assinatura</strong>. O acesso continua até o fim do período já pago, sem "
     "multa.</p>", Audience.PUBLIC),
    (3, "estorno-procedimento-interno", "Procedimento interno de estorno",
     "<p>Somente para a equipe: estornos acima de R$ 500 precisam da aprovação do "
     "supervisor. Registre o protocolo do atendimento e anexe o comprovante no chamado "
     "financeiro.</p>", Audience.AGENTS),
)


@transaction.atomic
def add_demo_articles(organization_id: int) -> int:
    """The articles above, published; returns how many. Idempotent per slug."""
    categories = []
    for position, (name, name_en) in enumerate(CATEGORIES):
        category, _created = Category.objects.get_or_create(
            organization_id=organization_id, name=name,
            defaults={"name_en": name_en, "position": position})
        categories.append(category)

    existing = set(Article.objects.for_org(organization_id).values_list("slug", flat=True))
    added = 0
    for index, slug, title, body, audience in ARTICLES:
        if slug in existing:
            continue
        article = save_article(organization_id, versions=[Version(Language.PT_BR, title, body)],
                               status=ArticleStatus.PUBLISHED, audience=audience,
                               category=categories[index])
        if article.slug != slug:
            article.slug = slug
            article.save(update_fields=["slug"])
        added += 1
    return added
