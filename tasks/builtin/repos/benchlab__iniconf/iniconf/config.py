"""The in-memory configuration: sections of options, typed getters, interpolation."""

import re

from .errors import InterpolationError, MissingOptionError, MissingSectionError

_MISSING = object()
_REFERENCE = re.compile(r"\$(?:\$|\{(?P<ref>[^}]*)\})")
_BOOLEANS = {
    "1": True,
    "yes": True,
    "true": True,
    "on": True,
    "0": False,
    "no": False,
    "false": False,
    "off": False,
}


class Config:
    """Sections in file order, each an ordered mapping of option name to raw text."""

    def __init__(self):
        self._sections = {}

    # -- structure ---------------------------------------------------------

    def sections(self):
        return list(self._sections)

    def has_section(self, section):
        return section in self._sections

    def add_section(self, section):
        self._sections.setdefault(section, {})

    def has_option(self, section, key):
        return key in self._sections.get(section, {})

    def options(self, section):
        return list(self._section(section))

    def set(self, section, key, value):
        self.add_section(section)
        self._sections[section][key] = str(value)

    def remove_option(self, section, key):
        options = self._section(section)
        if key not in options:
            raise MissingOptionError(section, key)
        del options[key]

    def __eq__(self, other):
        if not isinstance(other, Config):
            return NotImplemented
        return self._sections == other._sections

    def __repr__(self):
        return f"Config({self._sections!r})"

    # -- reading -----------------------------------------------------------

    def get(self, section, key, fallback=_MISSING, raw=False):
        options = self._sections.get(section)
        if options is None or key not in options:
            if fallback is not _MISSING:
                return fallback
            if options is None:
                raise MissingSectionError(section)
            raise MissingOptionError(section, key)
        value = options[key]
        return value if raw else self._interpolate(section, value)

    def items(self, section):
        return [(key, self.get(section, key)) for key in self._section(section)]

    def getint(self, section, key, fallback=_MISSING):
        return self._typed(section, key, fallback, int)

    def getfloat(self, section, key, fallback=_MISSING):
        return self._typed(section, key, fallback, float)

    def getboolean(self, section, key, fallback=_MISSING):
        return self._typed(section, key, fallback, _to_boolean)

    def getlist(self, section, key, fallback=_MISSING):
        return self._typed(section, key, fallback, _to_list)

    def _typed(self, section, key, fallback, convert):
        value = self.get(section, key, fallback=_MISSING if fallback is _MISSING else None)
        if value is None and fallback is not _MISSING:
            return fallback
        try:
            return convert(value)
        except ValueError as error:
            raise ValueError(f"[{section}] {key}: {error}") from None

    def _section(self, section):
        try:
            return self._sections[section]
        except KeyError:
            raise MissingSectionError(section) from None

    # -- interpolation -----------------------------------------------------

    def _interpolate(self, section, value):
        def replace(match):
            ref = match.group("ref")
            if ref is None:
                return "$"
            target_section, target_key = self._parse_reference(section, ref)
            options = self._sections.get(target_section, {})
            if target_key not in options:
                raise InterpolationError(
                    f"[{section}] refers to missing option ${{{ref}}}"
                )
            return options[target_key]

        return _REFERENCE.sub(replace, value)

    def _parse_reference(self, section, ref):
        if ":" in ref:
            target_section, _, target_key = ref.partition(":")
            return target_section.strip(), target_key.strip().lower()
        return section, ref.strip().lower()


def _to_boolean(value):
    try:
        return _BOOLEANS[value.strip()]
    except KeyError:
        raise ValueError(f"not a boolean: {value!r}") from None


def _to_list(value):
    return [item.strip() for item in value.split(",") if item.strip()]
