"""Screening a returned file part by part: what is refused inside the XML, what counts as damage, and
whether a worksheet may hold a formula. Every file here is a generated workbook rewritten by the test."""

from __future__ import annotations

import io
import struct
import zipfile
from pathlib import Path

import openpyxl
import pytest
from conftest import answer

from bva_excel.excel.read import screening
from bva_excel.excel.read.framework import load_framework
from bva_excel.excel.read.returns import read_return
from bva_excel.excel.read.screening import screen

REVIEW_PART = "xl/worksheets/sheet2.xml"  # XlsxWriter writes the sheets in order: Guide, Review, Scale, identity
MAIN = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"


def rezip(source: Path, target: Path, replace: dict[str, bytes] | None = None,
          add: dict[str, bytes] | None = None) -> Path:
    with zipfile.ZipFile(source) as zin, zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as zout:
        for item in zin.infolist():
            zout.writestr(item.filename, (replace or {}).get(item.filename, zin.read(item.filename)))
        for name, data in (add or {}).items():
            zout.writestr(name, data)
    return target


def part(path: Path, name: str) -> bytes:
    with zipfile.ZipFile(path) as archive:
        return archive.read(name)


def with_prolog(xml: bytes, doctype: bytes) -> bytes:
    """`xml` with `doctype` placed after its XML declaration if any, where a DTD belongs."""
    end = xml.index(b"?>") + 2 if xml.startswith(b"<?xml") else 0
    return xml[:end] + doctype + xml[end:]


def without_declaration(xml: bytes) -> bytes:
    return xml[xml.index(b"?>") + 2:].lstrip() if xml.startswith(b"<?xml") else xml


@pytest.fixture(autouse=True)
def nothing_seen_before():
    """Each test starts as a fresh ingest does, with no part known to be clean."""
    screening._CLEAN_PARTS.clear()


@pytest.fixture
def plain(generated, tmp_path) -> Path:
    """A filled return with no formula anywhere."""
    _, generation = generated
    refs = [ref for ref, ids in generation.allocation.items() if "R01" in ids]
    return answer(generation.files["R01"], tmp_path / "plain.xlsx", {refs[0]: ("Amber", "Typed text", "")})


@pytest.fixture
def with_formula(plain, tmp_path) -> Path:
    workbook = openpyxl.load_workbook(plain)
    workbook["Review"].cell(2, 7, "=1+1")
    target = tmp_path / "formula.xlsx"
    workbook.save(target)
    return target


def codes(result) -> list[str]:
    return [p.code for p in result.problems]


def test_a_plain_return_passes_and_holds_no_formula(plain):
    result = screen(plain)
    assert (result.kind, codes(result), result.has_formulas) == ("xlsx", [], False)


@pytest.mark.parametrize("name, doctype", [
    ("a DTD", b"<!DOCTYPE worksheet>"),
    ("an entity declaration", b'<!DOCTYPE worksheet [<!ENTITY who "lol">]>'),
    ("an external entity", b'<!DOCTYPE worksheet [<!ENTITY secret SYSTEM "file:///etc/passwd">]>'),
    ("an external DTD", b'<!DOCTYPE worksheet SYSTEM "http://evil.example/sheet.dtd">'),
])
def test_a_dtd_in_a_worksheet_is_refused_unread(plain, tmp_path, name, doctype):
    hostile = rezip(plain, tmp_path / "hostile.xlsx", replace={REVIEW_PART: with_prolog(part(plain, REVIEW_PART), doctype)})
    result = screen(hostile)
    assert result.kind == ""
    [problem] = result.problems
    assert problem.code == "RETURN_UNSAFE_XML"
    # The DTD is refused before anything declared in it is read, as defusedxml does with forbid_dtd.
    assert problem.fields == {"part": REVIEW_PART, "reason": "it declares a DTD"}


def test_a_dtd_in_a_relationships_part_is_refused(plain, tmp_path):
    hostile = rezip(plain, tmp_path / "rels.xlsx",
                    replace={"_rels/.rels": with_prolog(part(plain, "_rels/.rels"), b"<!DOCTYPE Relationships>")})
    [problem] = screen(hostile).problems
    assert (problem.code, problem.fields["part"]) == ("RETURN_UNSAFE_XML", "_rels/.rels")


def test_a_dtd_in_a_vml_drawing_is_refused(plain, tmp_path):
    vml = b'<?xml version="1.0"?><!DOCTYPE xml [<!ENTITY a "b">]><xml xmlns:v="urn:schemas-microsoft-com:vml"/>'
    hostile = rezip(plain, tmp_path / "vml.xlsx", add={"xl/drawings/vmlDrawing1.vml": vml})
    [problem] = screen(hostile).problems
    assert (problem.code, problem.fields["part"]) == ("RETURN_UNSAFE_XML", "xl/drawings/vmlDrawing1.vml")


def test_a_dtd_in_a_utf16_part_is_refused(plain, tmp_path):
    # A byte search for b"<!DOCTYPE" would miss this; the parser decodes the part first.
    body = without_declaration(part(plain, "docProps/core.xml"))
    core = (b'<?xml version="1.0" encoding="UTF-16"?><!DOCTYPE x [<!ENTITY a "b">]>' + body).decode().encode("utf-16")
    assert b"<!DOCTYPE" not in core
    hostile = rezip(plain, tmp_path / "utf16.xlsx", replace={"docProps/core.xml": core})
    [problem] = screen(hostile).problems
    assert (problem.code, problem.fields) == ("RETURN_UNSAFE_XML",
                                              {"part": "docProps/core.xml", "reason": "it declares a DTD"})


@pytest.mark.parametrize("document, allowed, reason", [
    (b'<!DOCTYPE a [<!ENTITY e "x">]><a>&e;</a>', ["StartDoctypeDeclHandler"], "entities"),
    (b'<!DOCTYPE a [<!ENTITY e SYSTEM "logo.png" NDATA png>]><a/>', ["StartDoctypeDeclHandler"], "entities"),
    (b'<!DOCTYPE a [<!ENTITY e SYSTEM "logo.png" NDATA png>]><a/>',
     ["StartDoctypeDeclHandler", "EntityDeclHandler"], "entities"),
    (b'<!DOCTYPE a [<!ENTITY e SYSTEM "file:///etc/passwd">]><a>&e;</a>',
     ["StartDoctypeDeclHandler", "EntityDeclHandler"], "an external reference"),
])
def test_each_refusal_holds_even_if_the_one_before_it_were_lifted(document, allowed, reason):
    parser = screening._xml_parser()
    for handler in allowed:
        setattr(parser, handler, None)
    with pytest.raises(screening._Refused) as refused:
        parser.Parse(document, True)
    assert refused.value.args == (reason,)


@pytest.mark.parametrize("name, change", [
    ("an end tag missing", lambda xml: xml.replace(b"</sheetData>", b"", 1)),
    ("the end cut off", lambda xml: xml[:xml.rindex(b"</worksheet>")]),
    ("a prefix never declared", lambda xml: xml.replace(b"<sheetData>", b"<sheetData><evil:c/>", 1)),
    ("text after the root", lambda xml: xml + b"<worksheet/>"),
    ("an undefined entity", lambda xml: xml.replace(b"</sheetData>", b"<row r='999'>&nbsp;</row></sheetData>", 1)),
    ("nothing at all", lambda xml: b""),
])
def test_malformed_xml_in_a_part_is_a_damaged_workbook(plain, tmp_path, name, change):
    xml = part(plain, REVIEW_PART)
    assert change(xml) != xml
    damaged = rezip(plain, tmp_path / "damaged.xlsx", replace={REVIEW_PART: change(xml)})
    assert codes(screen(damaged)) == ["RETURN_TRUNCATED"]


def central_entry(data: bytes, name: str) -> int:
    """Where the zip's central directory describes part `name` (zipfile trusts its sizes and checksum)."""
    entry = data.index(b"PK\x01\x02")
    while data[entry + 46:entry + 46 + struct.unpack_from("<H", data, entry + 28)[0]] != name.encode():
        entry = data.index(b"PK\x01\x02", entry + 4)
    return entry


def test_a_part_with_a_wrong_checksum_is_a_damaged_workbook(plain, tmp_path):
    data = bytearray(plain.read_bytes())
    entry = central_entry(data, "xl/workbook.xml")
    struct.pack_into("<I", data, entry + 16, struct.unpack_from("<I", data, entry + 16)[0] ^ 1)
    damaged = tmp_path / "crc.xlsx"
    damaged.write_bytes(bytes(data))
    assert codes(screen(damaged)) == ["RETURN_TRUNCATED"]


def _with_entry(plain: Path, target: Path, offset: int, change) -> Path:
    """`plain` with one field of the Review part's directory entry changed: `change(value) -> value`."""
    data = bytearray(plain.read_bytes())
    entry = central_entry(data, REVIEW_PART)
    width = "<H" if offset in (8, 10) else "<I"
    struct.pack_into(width, data, entry + offset, change(struct.unpack_from(width, data, entry + offset)[0]))
    target.write_bytes(bytes(data))
    return target


@pytest.mark.parametrize("offset, change", [
    (24, lambda size: size + 1),  # it says it inflates to more than it does
    (24, lambda size: size - 1),  # ... to less
    (20, lambda size: size - 8),  # its packed bytes are cut short
    (42, lambda at: at + 1),  # its directory points beside it
    (8, lambda flags: flags | 1),  # it says it is encrypted
    (10, lambda method: 9),  # packed in a way spreadsheet programs never use (Deflate64)
], ids=["longer", "shorter", "cut short", "misplaced", "encrypted", "deflate64"])
def test_a_part_that_is_not_what_the_directory_says_is_a_damaged_workbook(plain, tmp_path, offset, change):
    assert codes(screen(_with_entry(plain, tmp_path / "damaged.xlsx", offset, change))) == ["RETURN_TRUNCATED"]


def test_a_part_that_inflates_past_its_declared_size_is_inflated_no_further(plain, tmp_path, monkeypatch):
    # 20 MB of spaces that says it is 100 bytes: the size and ratio checks see 100 bytes, so only inflating can
    # tell. Stopped at the size it declares, it is damage; inflated on, it would be stopped only by the budget.
    monkeypatch.setattr(screening, "MAX_UNPACKED_BYTES", 10 * 1024 * 1024)
    rezip(plain, tmp_path / "big.xlsx", add={"docProps/extra.xml": b"<a>" + b" " * 20_000_000 + b"</a>"})
    data = bytearray((tmp_path / "big.xlsx").read_bytes())
    struct.pack_into("<I", data, central_entry(data, "docProps/extra.xml") + 24, 100)
    (tmp_path / "lying.xlsx").write_bytes(bytes(data))
    assert codes(screen(tmp_path / "lying.xlsx")) == ["RETURN_TRUNCATED"]


def test_a_part_seen_clean_is_damaged_when_its_directory_gives_another_checksum(plain, tmp_path):
    assert codes(screen(plain)) == []
    damaged = _with_entry(plain, tmp_path / "damaged.xlsx", 16, lambda crc: crc ^ 1)  # the same packed bytes
    assert codes(screen(damaged)) == ["RETURN_TRUNCATED"]


def test_a_workbook_stored_unpacked_is_read_and_screened_like_any(plain, tmp_path):
    with zipfile.ZipFile(plain) as zin, zipfile.ZipFile(tmp_path / "stored.xlsx", "w", zipfile.ZIP_STORED) as zout:
        for item in zin.infolist():
            zout.writestr(item.filename, zin.read(item.filename))
    result = screen(tmp_path / "stored.xlsx")
    assert (result.kind, codes(result)) == ("xlsx", [])
    with zipfile.ZipFile(plain) as zin, zipfile.ZipFile(tmp_path / "unsafe.xlsx", "w", zipfile.ZIP_STORED) as zout:
        for item in zin.infolist():
            xml = zin.read(item.filename)
            zout.writestr(item.filename, with_prolog(xml, b"<!DOCTYPE x [<!ENTITY a 'b'>]>")
                          if item.filename == REVIEW_PART else xml)
    assert codes(screen(tmp_path / "unsafe.xlsx")) == ["RETURN_UNSAFE_XML"]


def test_a_part_whose_compressed_bytes_are_damaged_is_a_damaged_workbook(plain, tmp_path):
    data = bytearray(plain.read_bytes())
    with zipfile.ZipFile(plain) as archive:
        info = archive.getinfo(REVIEW_PART)
    name_length, extra_length = struct.unpack_from("<HH", data, info.header_offset + 26)
    start = info.header_offset + 30 + name_length + extra_length
    for offset in range(start + 10, start + info.compress_size - 10, 7):
        data[offset] ^= 0x5A
    damaged = tmp_path / "inflate.xlsx"
    damaged.write_bytes(bytes(data))
    assert codes(screen(damaged)) == ["RETURN_TRUNCATED"]


def test_a_typed_formula_is_noticed(with_formula):
    assert b"<f>" in part(with_formula, REVIEW_PART)
    result = screen(with_formula)
    assert (result.kind, codes(result), result.has_formulas) == ("xlsx", [], True)


def test_a_formula_tag_split_between_chunks_is_noticed(with_formula, monkeypatch):
    at = part(with_formula, REVIEW_PART).index(b"<f>")
    for chunk in (at + 1, at + 2, at + 3):  # the tag split after '<', after '<f', and whole
        monkeypatch.setattr(screening, "CHUNK", chunk)
        result = screen(with_formula)
        assert (codes(result), result.has_formulas) == ([], True), chunk


def test_a_formula_in_a_prefixed_spreadsheet_namespace_is_noticed(plain, tmp_path):
    xml = part(plain, REVIEW_PART).replace(
        b"<sheetData>", f'<sheetData><row r="99"><c r="A99"><x:f xmlns:x="{MAIN}">1+1</x:f></c></row>'.encode(), 1)
    result = screen(rezip(plain, tmp_path / "prefixed.xlsx", replace={REVIEW_PART: xml}))
    assert (codes(result), result.has_formulas) == ([], True)


def test_a_validation_list_formula_is_not_a_cell_formula(plain, tmp_path):
    # Excel keeps a list drawn from another sheet as <xm:f> in an extension; that is not a typed formula.
    extension = (b'<extLst><ext uri="{CCE6A557-97BC-4b89-ADB6-D9C93CAAB3DF}" '
                 b'xmlns:x14="http://schemas.microsoft.com/office/spreadsheetml/2009/9/main">'
                 b'<x14:dataValidations count="1" xmlns:xm="http://schemas.microsoft.com/office/excel/2006/main">'
                 b'<x14:dataValidation type="list"><x14:formula1><xm:f>Scale!$A$2:$A$7</xm:f></x14:formula1>'
                 b'<xm:sqref>F2:F9</xm:sqref></x14:dataValidation></x14:dataValidations></ext></extLst>')
    xml = part(plain, REVIEW_PART).replace(b"</worksheet>", extension + b"</worksheet>")
    result = screen(rezip(plain, tmp_path / "validation.xlsx", replace={REVIEW_PART: xml}))
    assert (codes(result), result.has_formulas) == ([], False)


def test_a_worksheet_the_byte_search_cannot_read_is_assumed_to_hold_formulas(plain, tmp_path):
    sheet = (b'<?xml version="1.0" encoding="UTF-16"?>' + without_declaration(part(plain, REVIEW_PART))).decode()
    result = screen(rezip(plain, tmp_path / "utf16 sheet.xlsx", replace={REVIEW_PART: sheet.encode("utf-16")}))
    assert (codes(result), result.has_formulas) == ([], True)


def test_a_return_without_formulas_is_not_opened_again_for_them(generated, plain, monkeypatch):
    assessment, _ = generated

    def refuse(*_):
        raise AssertionError("input_formulas read a return that screening found free of formulas")

    monkeypatch.setattr("bva_excel.excel.read.returns.input_formulas", refuse)
    reading = read_return(plain, load_framework(assessment.workbook), assessment.assessment_id, assessment.secret(),
                          {i.issue_id: i for i in assessment.records.issues()})
    assert reading.accepted and reading.problems == []


def test_a_part_packed_with_bzip2_is_refused_unread(plain, tmp_path):
    # zipfile inflates bzip2 and LZMA with no limit per read: a few hundred bytes can become gigabytes.
    packed = tmp_path / "bzip2.xlsx"
    with zipfile.ZipFile(plain) as zin, zipfile.ZipFile(packed, "w", zipfile.ZIP_DEFLATED) as zout:
        for item in zin.infolist():
            method = zipfile.ZIP_BZIP2 if item.filename == "docProps/app.xml" else zipfile.ZIP_DEFLATED
            zout.writestr(item.filename, zin.read(item.filename), compress_type=method)
    [problem] = screen(packed).problems
    assert problem.code == "RETURN_BOMB"
    assert problem.fields == {"reason": "part docProps/app.xml is packed with bzip2, which spreadsheet programs never use"}


def test_a_mimetype_part_that_lies_about_its_size_is_read_no_further_than_needed(plain, tmp_path):
    import tracemalloc

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("mimetype", bytes(60 * 1024 * 1024))
        archive.writestr("content.xml", "<office:document-content/>")
    data = bytearray(buffer.getvalue())
    struct.pack_into("<I", data, 22, 46)  # the local header says 46 bytes, as a real mimetype part
    struct.pack_into("<I", data, central_entry(data, "mimetype") + 24, 46)
    bomb = tmp_path / "bomb.ods"
    bomb.write_bytes(bytes(data))
    tracemalloc.start()
    try:
        result = screen(bomb)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert codes(result) == ["RETURN_TRUNCATED"]  # 46 bytes read, whose checksum is not the one recorded
    assert peak < 10 * 1024 * 1024


def test_a_damaged_mimetype_part_is_a_damaged_file(tmp_path):
    data = ods_bytes()
    struct.pack_into("<I", data, central_entry(data, "mimetype") + 16, 0)
    damaged = tmp_path / "damaged.ods"
    damaged.write_bytes(bytes(data))
    assert codes(screen(damaged)) == ["RETURN_TRUNCATED"]


def test_a_part_seen_clean_before_is_not_parsed_again_and_keeps_its_verdict(with_formula, monkeypatch):
    first = screen(with_formula)

    def no_parsing():
        raise AssertionError("a part already found clean was parsed again")

    monkeypatch.setattr(screening, "_xml_parser", no_parsing)
    again = screen(with_formula)
    assert (codes(first), first.has_formulas) == (codes(again), again.has_formulas) == ([], True)


def test_a_worksheet_is_searched_for_formulas_even_if_its_bytes_were_seen_elsewhere(plain, with_formula, tmp_path):
    sheet = part(with_formula, REVIEW_PART)
    elsewhere = screen(rezip(plain, tmp_path / "elsewhere.xlsx", add={"docProps/sheet copy.xml": sheet}))
    assert (codes(elsewhere), elsewhere.has_formulas) == ([], False)
    result = screen(with_formula)
    assert (codes(result), result.has_formulas) == ([], True)


def test_only_a_part_read_whole_is_recognised(plain, tmp_path, monkeypatch):
    # A big part whose first chunk is, byte for byte, a small part found clean before is still read to its end.
    clean = b"<a>" + b" " * 93 + b"</a>"
    monkeypatch.setattr(screening, "CHUNK", len(clean))
    assert codes(screen(rezip(plain, tmp_path / "small.xlsx", add={"docProps/extra.xml": clean}))) == []
    damaged = rezip(plain, tmp_path / "big.xlsx", add={"docProps/extra.xml": clean + b"<a>"})
    assert codes(screen(damaged)) == ["RETURN_TRUNCATED"]


def ods_bytes() -> bytearray:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as archive:
        archive.writestr("mimetype", "application/vnd.oasis.opendocument.spreadsheet")
        archive.writestr("content.xml", "<office:document-content/>")
    return bytearray(buffer.getvalue())


@pytest.mark.parametrize("header", ["local", "central"])
def test_a_part_name_that_is_not_the_utf8_it_claims_is_damage(tmp_path, header):
    data = ods_bytes()
    at = 0 if header == "local" else central_entry(data, "mimetype")
    flags_at, name_at = (6, 30) if header == "local" else (8, 46)
    struct.pack_into("<H", data, at + flags_at, struct.unpack_from("<H", data, at + flags_at)[0] | 0x800)
    data[at + name_at] = 0xFF  # 'mimetype' becomes '\xffimetype', said to be UTF-8
    damaged = tmp_path / "names.ods"
    damaged.write_bytes(bytes(data))
    assert codes(screen(damaged)) == ["RETURN_TRUNCATED"]
