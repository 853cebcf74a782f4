"""Writing a Config back to INI text."""


def dumps(config):
    """Return INI text that ``loads`` reads back to an equal Config."""
    blocks = []
    for section in config.sections():
        lines = [f"[{section}]"]
        for key in config.options(section):
            value = config.get(section, key, raw=True)
            lines.append(f"{key} = {value}" if value else f"{key} =")
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks) + "\n" if blocks else ""


def dump(config, path, encoding="utf-8"):
    """Write ``config`` to the file at ``path``."""
    with open(path, "w", encoding=encoding) as handle:
        handle.write(dumps(config))
