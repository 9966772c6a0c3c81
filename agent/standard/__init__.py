"""The standard data model's own rules, whatever package the records came from.

Owns what the public model insists on (required fields, closed enums, a record's type) and the
check before upload (journal entries balance). Imports only ``errors``; imported by the sources'
mappings and by the runner.
"""
