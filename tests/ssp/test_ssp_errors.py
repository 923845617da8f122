"""A corpus of broken SSPs: each gives one clear error (exit status 2 from the CLI) that
names the file inside the archive, the line and the element; the archive is checked
before anything is extracted."""

from __future__ import annotations

import stat
import zipfile

import pytest

import cosim
from cosim.cli.main import main
from cosim.ssp.archive import Limits
from tests.ssp.sspfiles import archive, ssd


def system(elements: str, connections: str = "", connectors: str = "") -> str:
    conns = f"<ssd:Connections>{connections}</ssd:Connections>" if connections else ""
    return ssd(f"""<ssd:System name="root">{connectors}
<ssd:Elements>{elements}</ssd:Elements>{conns}</ssd:System>""")


def gain(name: str, connectors: str = "", source: str = "resources/Gain.fmu") -> str:
    holder = f"<ssd:Connectors>{connectors}</ssd:Connectors>" if connectors else ""
    return f'<ssd:Component name="{name}" source="{source}">\n{holder}</ssd:Component>'


U = '<ssd:Connector name="u" kind="input"><ssc:Real/></ssd:Connector>'
Y = '<ssd:Connector name="y" kind="output"><ssc:Real/></ssd:Connector>'
CONNECT = ('<ssd:Connection startElement="a" startConnector="y" endElement="b" '
           'endConnector="{}"/>')

CORPUS = {
    # case: (SSD text, the error's expected fragments, a text on the element's line)
    "missing FMU": (
        system(gain("a", source="resources/Missing.fmu")),
        ["component 'a': its FMU 'resources/Missing.fmu' is not in the archive",
         "FMUs beside it: Gain.fmu"], 'name="a"'),
    "bad connector": (
        system(gain("a", Y) + gain("b", U + '<ssd:Connector name="k_" kind="parameter"/>'),
               CONNECT.format("u")),
        ["connector 'k_' of component 'b': the FMU has no variable 'k_' (did you mean "
         "'k'?)"], 'name="k_"'),
    "connection to a connector that is nowhere": (
        system(gain("a", Y) + gain("b", U), CONNECT.format("uu")),
        ["connection a.y -- b.uu: component 'b' has no connector 'uu' (declared: u)"],
        'endConnector="uu"'),
    "unknown unit": (
        system(gain("a", Y), connectors='<ssd:Connectors><ssd:Connector name="speed" '
               'kind="output"><ssc:Real unit="zorkmid/s"/></ssd:Connector>'
               '</ssd:Connectors>'),
        ["connector 'speed': unknown unit 'zorkmid/s'"], 'name="speed"'),
    "unit defined twice": (
        system(gain("a", Y)).replace(
            "</ssd:SystemStructureDescription>",
            '<ssd:Units><ssc:Unit name="km"><ssc:BaseUnit m="1" factor="1000"/></ssc:Unit>\n'
            '<ssc:Unit name="km"><ssc:BaseUnit m="1" factor="1"/></ssc:Unit></ssd:Units>\n'
            "</ssd:SystemStructureDescription>"),
        ["unit 'km' is defined twice"], '<ssc:Unit name="km"><ssc:BaseUnit m="1" factor="1"/>'),
    "mismatched types": (
        system(gain("a", Y) + gain("b", '<ssd:Connector name="u" kind="input">'
                                        '<ssc:Boolean/></ssd:Connector>'),
               CONNECT.format("u")),
        ["connector 'u' of component 'b': mismatched types: the connector is Boolean but "
         "the FMU variable is Real"], "<ssc:Boolean/>"),
    "kind against causality": (
        system(gain("a", Y) + gain("b", '<ssd:Connector name="u" kind="output"/>')),
        ["connector 'u' of component 'b': kind 'output' does not match the FMU variable's "
         "causality 'input'"], 'kind="output"/>'),
    "input to input": (
        system(gain("a", U) + gain("b", U), '<ssd:Connection startElement="a" '
               'startConnector="u" endElement="b" endConnector="u"/>'),
        ["connection a.u -- b.u: SSP does not allow a connection between an input of an "
         "element and an input of an element"], "<ssd:Connection "),
    "signal dictionary": (
        system(gain("a", Y) + '<ssd:SignalDictionaryReference name="bus" dictionary="d"/>'),
        ["<ssd:SignalDictionaryReference name=\"bus\">: signal dictionaries are not "
         "supported"], "SignalDictionaryReference"),
    "another SSD as a component": (
        system('<ssd:Component name="sub" type="application/x-ssp-definition" '
               'source="resources/Sub.ssd"/>'),
        ["components referencing another SSD are not supported"], 'name="sub"'),
    "a source leaving the archive": (
        system(gain("a", source="../../outside/Gain.fmu")),
        ["component 'a': URI '../../outside/Gain.fmu' leads outside the archive"],
        'name="a"'),
    "malformed XML": (
        ssd('<ssd:System name="root"><ssd:Elements></ssd:System>'),
        ["malformed XML", "Opening and ending tag mismatch"], "</ssd:System>"),
    "entity declaration": (
        '<?xml version="1.0"?>\n<!DOCTYPE x [<!ENTITY big "aaaaaaaaaa">]>\n'
        + ssd('<ssd:System name="&big;"/>').split("\n", 1)[1],
        ["declares a DTD or XML entities; cosim rejects them"], None),
}


@pytest.mark.parametrize("case", list(CORPUS))
def test_each_broken_ssp_gives_one_clear_error(case, fmu2, tmp_path, capsys):
    text, fragments, marker = CORPUS[case]
    line = next((k for k, t in enumerate(text.splitlines(), 1) if marker and marker in t),
                None)
    path = archive(tmp_path / "broken.ssp", {"SystemStructure.ssd": text,
                                            "resources/Gain.fmu": fmu2("Gain")}, check=False)
    assert main(["check", str(path)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("cosim check: error: ")
    assert err.count(f"{path}!/SystemStructure.ssd") == 1  # one error, at one place
    where = f"{path}!/SystemStructure.ssd" + (f":{line}" if line else "")
    assert f"{where}:" in err, err
    for fragment in fragments:
        assert fragment in err, err
    assert "Traceback" not in err


def zip_with(path, entries: dict[str, bytes], mode: int | None = None):
    with zipfile.ZipFile(path, "w") as zf:
        for name, data in entries.items():
            info = zipfile.ZipInfo(name)
            if mode is not None and name.endswith("link"):
                info.external_attr = (stat.S_IFLNK | 0o777) << 16
            zf.writestr(info, data)
    return path


OK_SSD = system(gain("a", Y)).encode()


@pytest.mark.parametrize(("entries", "message"), [
    ({"SystemStructure.ssd": OK_SSD, "../evil.txt": b"x"},
     "archive entry '../evil.txt' escapes the extraction folder"),
    ({"SystemStructure.ssd": OK_SSD, "/etc/evil": b"x"},
     "archive entry '/etc/evil' escapes the extraction folder"),
    ({"SystemStructure.ssd": OK_SSD, "resources/link": b"/etc/passwd"},
     "archive entry 'resources/link' is a symbolic link"),
    ({"resources/Gain.txt": b"x"}, "not an SSP: no SystemStructure.ssd"),
])
def test_unsafe_or_incomplete_archives_are_rejected(tmp_path, capsys, entries, message):
    path = zip_with(tmp_path / "bad.ssp", entries, mode=1)
    assert main(["check", str(path)]) == 2
    err = capsys.readouterr().err
    assert f"{path}: {message}" in err
    assert not (tmp_path / "evil.txt").exists()


def test_not_a_zip_and_size_limits(tmp_path, fmu2):
    (tmp_path / "text.ssp").write_text("not a zip")
    with pytest.raises(cosim.ConfigError, match="not a valid SSP archive"):
        cosim.load(tmp_path / "text.ssp")
    path = archive(tmp_path / "big.ssp", {"SystemStructure.ssd": system(gain("a", Y)),
                                         "resources/Gain.fmu": fmu2("Gain"),
                                         "resources/zeros.bin": bytes(300_000)})
    with pytest.raises(cosim.ConfigError, match="unpacks to .* more than the 200000"):
        cosim.ssp.load(path, Limits(max_total=200_000))
    with pytest.raises(cosim.ConfigError, match="3 entries, more than the 2"):
        cosim.ssp.load(path, Limits(max_entries=2))
    with pytest.raises(cosim.ConfigError, match="more than the 100 bytes cosim reads"):
        cosim.ssp.load(path, Limits(max_xml=100))


def test_several_problems_are_reported_together(fmu2, tmp_path):
    text = system(gain("a", Y) + gain("b", U + '<ssd:Connector name="zz" kind="input"/>'),
                  CONNECT.format("u") + CONNECT.format("nope"))
    path = archive(tmp_path / "two.ssp", {"SystemStructure.ssd": text,
                                         "resources/Gain.fmu": fmu2("Gain")}, check=False)
    with pytest.raises(cosim.TopologyError) as err:
        cosim.load(path)
    assert len(err.value.problems) == 2
    text = str(err.value)
    assert "the FMU has no variable 'zz'" in text and "has no connector 'nope'" in text


def test_schema_deviations_of_other_tools_files_are_notes(fmu2, tmp_path):
    # OMSimulator writes empty <ssd:Connectors/>, which the SSP 1.0 schema forbids
    text = system('<ssd:Component name="a" source="resources/Gain.fmu"><ssd:Connectors/>'
                  '</ssd:Component>')
    path = archive(tmp_path / "oms.ssp", {"SystemStructure.ssd": text,
                                         "resources/Gain.fmu": fmu2("Gain")}, check=False)
    notes = cosim.load(path).graph.graph["notes"]
    assert any("does not conform to the SSP 1.0 schema" in n and "Connectors" in n
               for n in notes), notes
