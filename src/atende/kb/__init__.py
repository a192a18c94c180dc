"""The knowledge base (PO-3, BX-2): articles in categories, pt-BR and English versions,
draft or published, public or for agents only; searched through atende.fulltext."""
