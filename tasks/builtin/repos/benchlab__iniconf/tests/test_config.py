import unittest

import iniconf

SAMPLE = """
[server]
host = example.org
port = 8080
ratio = 0.75
debug = yes
verbose = off
tags = web, api , ,internal

[paths]
root = /srv/app
"""


class TestGetters(unittest.TestCase):
    def setUp(self):
        self.config = iniconf.loads(SAMPLE)

    def test_converts_numbers(self):
        self.assertEqual(self.config.getint("server", "port"), 8080)
        self.assertEqual(self.config.getfloat("server", "ratio"), 0.75)

    def test_reads_lower_case_booleans(self):
        self.assertIs(self.config.getboolean("server", "debug"), True)
        self.assertIs(self.config.getboolean("server", "verbose"), False)

    def test_rejects_words_that_are_not_booleans(self):
        with self.assertRaises(ValueError):
            self.config.getboolean("server", "host")

    def test_splits_lists_and_drops_empty_items(self):
        self.assertEqual(self.config.getlist("server", "tags"), ["web", "api", "internal"])

    def test_returns_the_fallback_for_missing_options(self):
        self.assertEqual(self.config.get("server", "missing", fallback="x"), "x")
        self.assertEqual(self.config.getint("server", "missing", fallback=3), 3)
        self.assertIsNone(self.config.get("nowhere", "missing", fallback=None))

    def test_raises_lookup_errors_without_fallback(self):
        with self.assertRaises(iniconf.MissingSectionError):
            self.config.get("nowhere", "host")
        with self.assertRaises(iniconf.MissingOptionError):
            self.config.get("server", "missing")


class TestInterpolation(unittest.TestCase):
    def test_resolves_a_reference_in_the_same_section(self):
        config = iniconf.loads("[s]\nhost = example.org\nurl = http://${host}/\n")
        self.assertEqual(config.get("s", "url"), "http://example.org/")

    def test_resolves_a_reference_to_another_section(self):
        config = iniconf.loads("[paths]\nroot = /srv\n[app]\nlogs = ${paths:root}/logs\n")
        self.assertEqual(config.get("app", "logs"), "/srv/logs")

    def test_reads_a_double_dollar_as_a_dollar(self):
        config = iniconf.loads("[s]\nprice = $$5\n")
        self.assertEqual(config.get("s", "price"), "$5")

    def test_raises_for_a_missing_reference(self):
        config = iniconf.loads("[s]\nx = ${nope}\n")
        with self.assertRaises(iniconf.InterpolationError):
            config.get("s", "x")

    def test_raw_returns_the_text_as_written(self):
        config = iniconf.loads("[s]\nhost = h\nurl = ${host}\n")
        self.assertEqual(config.get("s", "url", raw=True), "${host}")


if __name__ == "__main__":
    unittest.main()
