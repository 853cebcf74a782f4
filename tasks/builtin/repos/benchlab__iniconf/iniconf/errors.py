"""Exceptions raised by iniconf."""


class IniError(Exception):
    """Base class for every iniconf error."""


class ParseError(IniError):
    """The text is not valid INI; ``lineno`` is 1-based."""

    def __init__(self, message, lineno):
        super().__init__(f"line {lineno}: {message}")
        self.lineno = lineno


class MissingSectionError(IniError, LookupError):
    def __init__(self, section):
        super().__init__(f"no section [{section}]")
        self.section = section


class MissingOptionError(IniError, LookupError):
    def __init__(self, section, key):
        super().__init__(f"no option {key!r} in section [{section}]")
        self.section = section
        self.key = key


class InterpolationError(IniError):
    """A ${...} reference cannot be resolved."""
