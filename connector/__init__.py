"""The ``connector`` command's entry point: the tray app, or one of the agent's commands.

It sits outside both ``agent`` (headless, never imports Qt) and ``ui`` (whose package loads
PySide6 on import), so that ``connector run --headless``, ``connector status`` and every other
command never load Qt, and the agent never reaches up into the GUI. Nothing imports this package.
"""
