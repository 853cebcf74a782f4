import os
import tempfile
import unittest

import iniconf


class TestDumps(unittest.TestCase):
    def test_writes_sections_in_order(self):
        config = iniconf.loads("[b]\nx = 1\n[a]\ny =\n")
        self.assertEqual(iniconf.dumps(config), "[b]\nx = 1\n\n[a]\ny =\n")

    def test_round_trips_simple_values(self):
        config = iniconf.loads("[s]\nurl = http://${host}/\nhost = h\nnote = a ; b\n")
        self.assertEqual(iniconf.loads(iniconf.dumps(config)), config)

    def test_dump_writes_a_file(self):
        config = iniconf.loads("[a]\nx = 1\n")
        with tempfile.TemporaryDirectory() as folder:
            path = os.path.join(folder, "out.ini")
            iniconf.dump(config, path)
            self.assertEqual(iniconf.load(path), config)


if __name__ == "__main__":
    unittest.main()
