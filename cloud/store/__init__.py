"""The cloud's state: the database, its migrations, and the domain services over it.

Tenancy (companies and connections), datasets and their moves through the shared state
machine, agents and their token families, link codes, the server's secret, staged pages and
their publication, the cache of published records and its baselines, sync settings, the
maintenance sweep, and the wake-ups of long polls. Imports only ``cloud.errors`` and
``protocol``; imported by everything above it, never the other way round.
"""
