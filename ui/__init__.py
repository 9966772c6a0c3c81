"""The tray app: a thin PySide6 view of the agent, which it reaches only through the facade."""
