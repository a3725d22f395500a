"""atoconf's version: in the lowest layer, so every layer can say it."""

__version__ = "0.1.0"
