"""The record kit: a record family is a declaration (`records.RecordKind`); the kit serves
its numbers, workflow, e-signatures, shared parts (attachments, comments, links,
extensions), pages, API and exports (docs/adding-a-record-family.md)."""
