"""The agent's ground floor: settings, secrets, files and logs, used by every package above.

Owns the configuration (paths, links, pause, window, proxy), the credential store and its lock,
the proxy's password in the keyring, private files and folders, the agent's own working folders
and the one way it deletes, scratch SQLite files, the logs and the redaction of secrets in them.
Imports only ``errors`` and ``protocol`` (and the standard library and third parties); every other
agent package may import it.
"""
