"""Reading INI text into a Config."""

import re

from .config import Config
from .errors import ParseError

_SECTION = re.compile(r"^\[(?P<name>[^\]]+)\]\s*$")
_COMMENT_PREFIXES = ("#", ";")


def loads(text):
    """Parse INI ``text`` and return a Config."""
    config = Config()
    section = None
    key = None  # the option that an indented line would continue

    for lineno, line in enumerate(text.splitlines(), start=1):
        stripped = line.strip()
        if not stripped:
            key = None
            continue
        if stripped.startswith(_COMMENT_PREFIXES):
            continue

        if line[0] in " \t" and key is not None:
            previous = config.get(section, key, raw=True)
            config.set(section, key, previous + "\n" + stripped)
            continue

        match = _SECTION.match(stripped)
        if match:
            section = match.group("name").strip()
            if config.has_section(section):
                raise ParseError(f"duplicate section [{section}]", lineno)
            config.add_section(section)
            key = None
            continue

        if section is None:
            raise ParseError("option outside of any section", lineno)
        key, value = _split_option(stripped, lineno)
        if config.has_option(section, key):
            raise ParseError(f"duplicate option {key!r} in [{section}]", lineno)
        config.set(section, key, value)

    return config


def load(path, encoding="utf-8"):
    """Read and parse the INI file at ``path``."""
    with open(path, encoding=encoding) as handle:
        return loads(handle.read())


def _split_option(line, lineno):
    if "=" in line:
        key, _, value = line.partition("=")
    elif ":" in line:
        key, _, value = line.partition(":")
    else:
        raise ParseError(f"expected 'key = value', got {line!r}", lineno)
    key = key.strip().lower()
    if not key:
        raise ParseError("option with an empty name", lineno)
    return key, value.strip()
