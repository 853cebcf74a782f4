"""INI configuration files with typed getters and ${...} interpolation."""

from .config import Config
from .errors import (
    IniError,
    InterpolationError,
    MissingOptionError,
    MissingSectionError,
    ParseError,
)
from .parser import load, loads
from .writer import dump, dumps

__all__ = [
    "Config",
    "IniError",
    "InterpolationError",
    "MissingOptionError",
    "MissingSectionError",
    "ParseError",
    "dump",
    "dumps",
    "load",
    "loads",
]

__version__ = "0.6.0"
