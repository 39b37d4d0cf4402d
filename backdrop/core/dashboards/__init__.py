"""Dashboards (SPEC 11): JSON documents of chart tiles over read-API queries.

- ``validation``: the shipped JSON Schema and the tile-query checks;
- ``eviction``: storage limits and the eviction policy, a pure function;
- ``lock``: the one-writer-at-a-time lock, made of a document;
- ``store``: ``Dashboards``, the use-cases over the document store;
- ``spotlight``: Performance Platform (Stagecraft/Spotlight) dashboards → tiles;
- ``transfer``: many dashboards as one JSON file (export, import).
"""
