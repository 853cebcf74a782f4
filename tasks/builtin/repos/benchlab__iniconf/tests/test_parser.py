import os
import tempfile
import unittest

import iniconf


class TestLoads(unittest.TestCase):
    def test_reads_sections_and_options(self):
        config = iniconf.loads("[server]\nhost = example.org\nport = 8080\n\n[client]\nretries = 3\n")
        self.assertEqual(config.sections(), ["server", "client"])
        self.assertEqual(config.options("server"), ["host", "port"])
        self.assertEqual(config.get("server", "host"), "example.org")

    def test_accepts_a_colon_separator(self):
        config = iniconf.loads("[a]\nname: value\n")
        self.assertEqual(config.get("a", "name"), "value")

    def test_strips_whitespace_around_keys_and_values(self):
        config = iniconf.loads("[a]\n   name   =   two words   \n")
        self.assertEqual(config.get("a", "name"), "two words")

    def test_stores_option_names_in_lower_case(self):
        config = iniconf.loads("[a]\nTimeOut = 5\n")
        self.assertEqual(config.options("a"), ["timeout"])

    def test_skips_comments_and_blank_lines(self):
        text = "# top\n[a]\n; note\n  # indented comment\n\nx = 1\n"
        self.assertEqual(iniconf.loads(text).items("a"), [("x", "1")])

    def test_keeps_semicolons_inside_values(self):
        config = iniconf.loads("[a]\nx = 1 ; one\n")
        self.assertEqual(config.get("a", "x"), "1 ; one")

    def test_joins_continuation_lines(self):
        config = iniconf.loads("[motd]\ntext = Welcome!\n    Maintenance on Sunday.\n\nother = 1\n")
        self.assertEqual(config.get("motd", "text"), "Welcome!\nMaintenance on Sunday.")
        self.assertEqual(config.get("motd", "other"), "1")

    def test_rejects_an_option_outside_a_section(self):
        with self.assertRaises(iniconf.ParseError) as caught:
            iniconf.loads("# header\nx = 1\n")
        self.assertEqual(caught.exception.lineno, 2)

    def test_rejects_duplicate_sections(self):
        with self.assertRaises(iniconf.ParseError) as caught:
            iniconf.loads("[a]\nx = 1\n[a]\n")
        self.assertEqual(caught.exception.lineno, 3)

    def test_rejects_a_line_without_separator(self):
        with self.assertRaises(iniconf.ParseError):
            iniconf.loads("[a]\njust words\n")

    def test_load_reads_a_file(self):
        with tempfile.TemporaryDirectory() as folder:
            path = os.path.join(folder, "app.ini")
            with open(path, "w", encoding="utf-8") as handle:
                handle.write("[a]\nx = 1\n")
            self.assertEqual(iniconf.load(path).get("a", "x"), "1")


if __name__ == "__main__":
    unittest.main()
