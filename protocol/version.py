"""The one place the version lives: the package metadata and the installer read it from here."""

__version__ = "0.1.0"
