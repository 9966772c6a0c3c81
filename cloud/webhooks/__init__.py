"""Webhooks: domain events become Codat-shaped messages, stored, signed and delivered.

``feed`` turns the store's events into messages, ``store`` keeps consumers and deliveries,
``delivery`` is the thread that sends and retries, ``signing`` the Svix-style signatures,
``targets`` where a delivery may go (no inside addresses). Imports ``cloud.store``; imported
by ``cloud.services`` and the webhooks router.
"""
