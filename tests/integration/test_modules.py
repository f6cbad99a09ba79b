"""The module host refuses what is not a Postern module of its ABI, with a
message that says what to do."""
import pathlib
import re
import subprocess

import pytest

from conftest import POSTERND

SRC = pathlib.Path(__file__).resolve().parents[2] / "src" / "include"
ABI = int(re.search(r"#define POSTERN_MODULE_ABI (\d+)",
                    (SRC / "postern" / "module.h").read_text()).group(1))


def build_module(tmp_path, name, body):
    c = tmp_path / f"{name}.c"
    c.write_text("#include <postern/module.h>\n" + body)
    subprocess.run(["cc", "-shared", "-fPIC", f"-I{SRC}", "-o",
                    str(tmp_path / f"{name}.so"), str(c)], check=True)


def check(tmp_path, module):
    conf = tmp_path / "postern.conf"
    conf.write_text(f"modules = {module}\nmodule_dir = {tmp_path}\n")
    return subprocess.run([str(POSTERND), "-t", "-c", str(conf)],
                          capture_output=True, timeout=30)


def test_abi_mismatch_is_refused(tmp_path):
    build_module(tmp_path, "oldabi", """
const struct pn_module postern_module = {
	.abi = POSTERN_MODULE_ABI + 41, .name = "oldabi", .log_tag = "OLD",
};""")
    res = check(tmp_path, "oldabi")
    assert res.returncode == 1
    expected = (f"module oldabi was built for module ABI {ABI + 41}, this posternd "
                f"has ABI {ABI}: rebuild the module")
    assert expected.encode() in res.stderr


def test_shared_object_without_descriptor(tmp_path):
    build_module(tmp_path, "plain", "int not_a_module(void) { return 1; }\n")
    res = check(tmp_path, "plain")
    assert res.returncode == 1
    assert b"module plain exports no postern_module: not a Postern module" in res.stderr


def test_file_that_is_not_a_shared_object(tmp_path):
    (tmp_path / "junk.so").write_text("not an ELF file")
    res = check(tmp_path, "junk")
    assert res.returncode == 1
    assert b"cannot load module junk:" in res.stderr


def test_background_module_with_settings_loads(tmp_path):
    # a module without a protocol: settings from its section, checked
    build_module(tmp_path, "bg", """
#include <stddef.h>
struct bg_settings { unsigned int every; };
static const struct setting_def defs[] = {
	{ "every", SETTING_SECONDS, offsetof(struct bg_settings, every), "1m", 1, 3600 },
	SETTING_DEFS_END
};
const struct pn_module postern_module = {
	.abi = POSTERN_MODULE_ABI, .name = "bg", .log_tag = "BG",
	.settings = defs, .settings_size = sizeof(struct bg_settings),
};""")
    conf = tmp_path / "postern.conf"
    conf.write_text(f"modules = bg\nmodule_dir = {tmp_path}\n[bg]\nevery = 30m\n")
    res = subprocess.run([str(POSTERND), "-t", "-c", str(conf)], capture_output=True)
    assert res.returncode == 0, res.stderr
    conf.write_text(f"modules = bg\nmodule_dir = {tmp_path}\n[bg]\nevery = 2h\n")
    res = subprocess.run([str(POSTERND), "-t", "-c", str(conf)], capture_output=True)
    assert res.returncode == 1
    assert b"postern.conf:4: bg.every = 2h: out of range, use 1 to 3600" in res.stderr


@pytest.mark.parametrize("names,error", [
    ("pop, pop", b"modules: pop is named twice"),
    ("Pop", b"modules: 'Pop' is not a module name"),
])
def test_bad_module_lists(tmp_path, names, error):
    conf = tmp_path / "postern.conf"
    conf.write_text(f"modules = {names}\nmodule_dir = {POSTERND.parent}/modules\n")
    res = subprocess.run([str(POSTERND), "-t", "-c", str(conf)], capture_output=True)
    assert res.returncode == 1 and error in res.stderr, res.stderr


def test_log_records_escape_what_clients_send(server):
    r = server.raw()
    r.line()
    r.cmd(b"USER evil\x1b[31m\x07name")
    r.cmd("PASS whatever")
    server.wait_log("authentication failed")
    log = server.log()
    # terminal escapes and bells arrive escaped, never raw
    assert "\x1b" not in log and "\x07" not in log
    assert "evil?[31m?name" in log or "evil\\x1b[31m\\x07name" in log
