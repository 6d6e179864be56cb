"""Covered-equipment detection (issue #7): model patterns, MAC OUIs, label
text, the decision, nmap scans and whole inventories - in process, no store."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from clearance.assets import AssetScreener, InventoryRun, screen_asset, screen_inventory
from clearance.assets.consequences import rules_for
from clearance.assets.mac import MacError, parse_mac, parse_macs, registrant
from clearance.assets.models import load_patterns, match_model
from clearance.assets.nmap import read_nmap
from clearance.assets.text import text_signal
from clearance.errors import InputError
from clearance.ownership.brands import producer_for_registrant

FIXTURES = Path(__file__).parent / "fixtures"
INVENTORY = FIXTURES / "assets_inventory.csv"
SCAN = FIXTURES / "assets_scan.xml"
AS_OF = "2026-11-30"

# -- model-number conventions ----------------------------------------------------------

REAL_MODELS = {
    "DS-2CD2143G2-I": "hikvision", "DS-2CD2387G2-LU": "hikvision", "iDS-2CD7146G0-IZS": "hikvision",
    "DS-2DE4425IW-DE": "hikvision", "DS-7608NI-K2": "hikvision", "DS-9632NXI-I8/S": "hikvision",
    "DS-K1T671M": "hikvision", "DS-2TD2166T-15": "hikvision", "IPC-B140H": "hikvision",
    "CS-C6N-A0-1C2WFR": "hikvision", "ds 2cd2143g2-i": "hikvision",
    "IPC-HFW2431S-S-S2": "dahua", "DH-IPC-HDBW2431E-S-S2": "dahua", "DHI-NVR4108HS-4KS2": "dahua",
    "SD49225XA-HNR": "dahua", "HAC-HFW1200T": "dahua", "XVR5108HS-I3": "dahua", "NVR5216-16P-4KS2E": "dahua",
    "TPC-BF5421": "dahua",
    "HG8245H": "huawei", "EG8145V5": "huawei", "MA5800-X7": "huawei", "S5735-L24T4S-A": "huawei",
    "S5720-28X-SI-AC": "huawei", "CE6881-48S6CQ": "huawei", "USG6510E": "huawei", "AR6120": "huawei",
    "CloudEngine S5731-S24T4X": "huawei", "E5577Cs-321": "huawei",
    "ZXHN F660": "zte", "ZXA10 C300": "zte", "F670L": "zte", "MF971R": "zte",
    "PD785G": "hytera", "PD985": "hytera", "MD785": "hytera", "RD985": "hytera",
}

#: Model numbers of makers that are not covered, several built to look alike.
LOOKALIKES = [
    "IPC2124LB-SF28KM-G", "IPC322LB-DSF28K-G", "IPC3614SB-ADF28KM-I0", "NVR301-08S3-P8", "NVR302-16S",  # Uniview
    "MS-C2963-PB", "MS-N5016-UPT", "MS-C8165-PB",  # Milesight
    "VIGI C340", "VIGI C540", "VIGI NVR1008H-8P", "NVR1008H", "NVR2016H-16MP", "EAP225", "TL-SG108E", "ER605",  # TP-Link
    "S5130S-28P-EI", "S5120V2-28P-LI", "S5560X-30C-EI", "S6520X-26XC-UPWR-SI", "MSR2600-10-WINET", "WA6320",  # H3C
    "TC-C34XS", "TC-NR5020M7-S2", "TC-C32XN",  # Tiandy
    "SN-IPR57/04UVDR", "SN-IPR8020DZBN",  # Sunell
    "RG-S2910-24GT4XS-E", "RG-AP720-L", "RG-EG2100-P",  # Ruijie
    "P3245-LV", "M3106-L", "XNV-6080R", "QNV-8080R", "NDE-5503-AL", "C9300-48P", "AP-515", "U6-LR",
    "DS920+", "DS1821+", "USG40", "USG2200", "MC3300", "APX 6000", "XPR 7550", "DP4400", "SD-CARD",
    "SDSSDA-240G", "H265", "iPhone 15", "PowerEdge R750",
]


def test_curated_models_load_and_every_example_matches():
    patterns = load_patterns()
    assert len(patterns) >= 25
    assert {p.producer for p in patterns} == {"hikvision", "dahua", "huawei", "zte", "hytera"}
    for p in patterns:
        assert p.source and p.date and p.examples
        for example in p.examples:
            assert any(m.pattern is p for m in match_model(example)), (p.line, example)


@pytest.mark.parametrize("model,producer", sorted(REAL_MODELS.items()))
def test_real_models(model, producer):
    found = match_model(model)
    assert found and found[0].producer == producer, model


@pytest.mark.parametrize("model", LOOKALIKES)
def test_lookalikes_of_other_makers_do_not_match(model):
    assert match_model(model) == [], model


@pytest.mark.parametrize(
    ("row", "error"),
    [
        ("hikvision,^DS-2CD[0-9,cams,strong,DS-2CD2143G2-I,src,2026-11-30", "line 2.*not a regular expression"),
        ("hikvision,^DS-2CE,cams,strong,DS-2CD2143G2-I,src,2026-11-30", "line 2.*does not match the row's own pattern"),
        ("hikvision,^DS-2CD,cams,medium,DS-2CD2143G2-I,src,2026-11-30", "line 2.*strength 'medium'; expected one of strong, weak"),
        ("hikvision,^DS-2CD,cams,strong,DS-2CD2143G2-I,src,30/11/2026", "line 2.*'30/11/2026' is not a date"),
    ],
)
def test_bad_pattern_file_is_refused(tmp_path, row, error):
    from clearance.errors import SourceError

    bad = tmp_path / "covered-models.csv"
    bad.write_text("producer,pattern,product_line,strength,examples,source,date\n" + row + "\n")
    with pytest.raises(SourceError, match=error):
        load_patterns(str(bad))


# -- MAC addresses and OUIs ----------------------------------------------------------------


@pytest.mark.parametrize("text", ["BC:AD:28:12:34:56", "bc-ad-28-12-34-56", "bcad.2812.3456", "BCAD28123456", "bc ad 28 12 34 56"])
def test_mac_notations(text):
    assert [m.text for m in parse_macs(text)] == ["BC:AD:28:12:34:56"]


@pytest.mark.parametrize("text,why", [
    ("GG:HH:II:JJ:KK:LL", "is not a MAC address"),
    ("74:C9:29:5E", "has 8 hex digits"),
    ("00:00:00:00:00:00", "all-zero"),
    ("01:00:5E:00:00:01", "multicast"),
    ("FF:FF:FF:FF:FF:FF", "multicast"),
])
def test_malformed_macs(text, why):
    with pytest.raises(MacError, match=why):
        parse_mac(text)


def test_several_macs_in_one_cell():
    assert [m.oui for m in parse_macs("BC:AD:28:12:34:56; 44-19-B6-00-00-01")] == ["BC-AD-28", "44-19-B6"]


@pytest.mark.parametrize("oui,producer", [
    ("BCAD28", "hikvision"), ("4419B6", "hikvision"), ("64F2FB", "hikvision"),  # Hikvision, Hangzhou Ezviz Software
    ("34BD20", "hikvision"),  # Hangzhou Hikrobot Technology
    ("74C929", "dahua"), ("E00630", "huawei"), ("7066B9", "huawei"), ("F01B24", "zte"), ("9C066E", "hytera"),
    ("6CF17E", None), ("48EA63", None), ("708185", None), ("04A959", None), ("3CDA6D", None), ("001C27", None),  # Uniview, H3C, Tiandy, Sunell
    ("1CC316", None), ("68DDB7", None), ("F0748D", None), ("E87072", None), ("ACCC8E", None),  # Milesight, TP-Link, Ruijie, BroadLink, Axis
])
def test_oui_registrants(oui, producer):
    reg = registrant(oui)
    assert reg is not None, oui
    found = producer_for_registrant(reg.org, AS_OF)
    assert (found.producer if found else None) == producer, reg.org


# -- label text ----------------------------------------------------------------------------


@pytest.mark.parametrize("text,producer,strength", [
    ("Hikvision", "hikvision", "strong"),
    ("Hangzhou Hikvision Digital Technology Co., Ltd.", "hikvision", "strong"),
    ("EZVIZ", "hikvision", "strong"),
    ("HiLook", "hikvision", "strong"),
    ("Hikrobot", "hikvision", "strong"),
    ("Dahua Technology", "dahua", "strong"),
    ("Zhejiang Dahua Vision Technology Co., Ltd.", "dahua", "strong"),
    ("HUAWEI TECHNOLOGIES CO.,LTD", "huawei", "strong"),
    ("华为技术有限公司", "huawei", "strong"),
    ("ZTE Corporation", "zte", "strong"),
    ("Hytera Communications Corporation Limited", "hytera", "strong"),
    ("Sepura", "hytera", "strong"),
    ("Hikvison", "hikvision", "weak"),  # typo
    ("Hua Wei", "huawei", "weak"),  # two words written as one
    ("Dahua Foods", "dahua", "weak"),  # shares a word, another business
    ("Huawei Marine Networks", "huawei", "weak"),
    ("Teltronics", "hytera", "weak"),  # equals 'Teltronic' only after stemming
    ("Lorex", "dahua", "weak"),  # sold in 2022
    ("Honor", "huawei", "weak"),  # sold in 2020
    ("HIKMICRO", "hikvision", "weak"),  # relation unconfirmed
])
def test_label_text(text, producer, strength):
    hit = text_signal(text, AS_OF)
    assert hit is not None and (hit.producer, hit.strength) == (producer, strength), (text, hit)


@pytest.mark.parametrize("text", [
    "Uniview", "Zhejiang Uniview Technologies Co., Ltd.", "H3C", "New H3C Technologies Co., Ltd.", "Tiandy",
    "Sunell", "Milesight", "Xiamen Milesight IoT", "TP-Link", "Ruijie Networks", "Hangzhou Xiongmai Technology",
    "Hangzhou BroadLink Technology Co., Ltd.", "Honeywell", "Hisense", "ZTEC Instruments", "Amcrest", "Axis",
    "Honor Guard Security", "Motorola Solutions",
])
def test_label_text_not_covered(text):
    assert text_signal(text, AS_OF) is None, text


# -- the decision ----------------------------------------------------------------------------


def test_record_follows_the_contract():
    record = screen_asset({"manufacturer": "Hikvision", "model": "DS-2CD2143G2-I", "mac": "44:19:B6:3A:00:01"}, AS_OF, row=3)
    assert set(record) >= {"row", "input", "status", "producer", "evidence", "rules"}
    assert record["row"] == 3 and record["status"] == "covered" and record["producer"] == "hikvision"
    assert {e["signal"] for e in record["evidence"]} == {"oui", "model", "manufacturer"}
    for e in record["evidence"]:
        assert set(e) >= {"signal", "value", "detail"} and e["detail"]
    ids = {r["id"] for r in record["rules"]}
    assert {"ndaa889-procurement", "ndaa889-contractor-use", "fcc-covered-equipment-authorization"} <= ids
    citations = " ".join(r["citation"] for r in record["rules"])
    assert "889(a)(1)(A)" in citations and "889(a)(1)(B)" in citations and "47 CFR" in citations
    json.dumps(record)


def test_relabelled_device_is_covered_with_the_contradiction_stated():
    record = screen_asset({"manufacturer": "Honeywell", "model": "HBD8GR1", "mac": "BC:AD:28:4A:01:20"}, AS_OF)
    assert record["status"] == "covered" and record["producer"] == "hikvision"
    assert "contradiction" in record["summary"] and "Honeywell" in record["summary"]
    label = [e for e in record["evidence"] if e["producer"] is None]
    assert label and label[0]["value"] == "Honeywell" and "relabelled or OEM" in label[0]["detail"]


def test_model_alone_contradicting_a_label():
    record = screen_asset({"manufacturer": "Acme Security", "model": "DS-2CD2387G2-LU"}, AS_OF)
    assert record["status"] == "covered"
    assert "labelled 'Acme Security'" in record["summary"]


def test_weak_single_signals_are_review():
    for fields in ({"model": "SD22204DB-GNY-W"}, {"manufacturer": "Hikvison"}, {"mac": "0C:B9:83:10:54:54"},
                   {"description": "old Dahua camera, removed?"}, {"manufacturer": "Lorex", "brand": "Lorex"}):
        record = screen_asset(fields, AS_OF)
        assert record["status"] == "review", (fields, record["summary"])
        assert record["summary"].startswith("review:") and "confirm the maker" in record["summary"]


def test_two_independent_weak_signals_are_covered():
    record = screen_asset({"model": "PD785", "description": "Hytera radio"}, AS_OF)
    assert record["status"] == "covered" and record["producer"] == "hytera"


def test_as_of_date_decides_ended_relations():
    lorex = {"manufacturer": "Lorex Technology Inc."}
    assert AssetScreener("2020-06-01").screen(lorex)["status"] == "covered"
    assert AssetScreener("2025-06-01").screen(lorex)["status"] == "review"


def test_rules_are_dated():
    assert rules_for("hytera", "2019-01-01") == []  # sec. 889 procurement ban from 13 Aug 2019
    assert {r["id"] for r in rules_for("hytera", "2019-09-01")} >= {"ndaa889-procurement"}


def test_clear_and_error_rows():
    clear = screen_asset({"manufacturer": "Axis", "mac": "AC:CC:8E:12:30:30"}, AS_OF)
    assert clear["status"] == "clear" and clear["producer"] is None and clear["rules"] == []
    assert "Axis Communications AB" in clear["summary"]
    local = screen_asset({"mac": "02:42:AC:11:00:29"}, AS_OF)
    assert local["status"] == "clear" and "locally administered" in local["summary"]
    blank = screen_asset({"ip": "10.0.0.1", "asset_id": "X"}, AS_OF, where="inv.csv, line 9")
    assert blank["status"] == "error" and blank["error"].startswith("inv.csv, line 9: nothing to screen")
    junk = screen_asset({"model": "DS-2CD\x07"}, AS_OF)
    assert junk["status"] == "error" and "control" in junk["error"]
    bad_mac = screen_asset({"manufacturer": "Hikvision", "mac": "BC:AD:28"}, AS_OF)
    assert bad_mac["status"] == "error" and "6 hex digits" in bad_mac["error"]
    assert bad_mac["producer"] == "hikvision", "other fields' evidence is kept with the error"


# -- nmap --------------------------------------------------------------------------------------


def test_nmap_fixture_is_read():
    hosts = read_nmap(SCAN)
    assert len(hosts) == 12
    cam = hosts[0]
    assert cam["ip"] == "10.77.0.11" and cam["mac"] == "BC:AD:28:4A:10:0B"
    assert cam["mac_vendor"] == "Hangzhou Hikvision Digital Technology"
    assert cam["hostname"] == "cam-lobby-01.plant.example"
    assert "Hikvision IP camera httpd" in cam["services"] and "App-webs/" in cam["services"]
    assert cam["os"].startswith("Linux")
    screener = AssetScreener(AS_OF)
    results = {h["ip"]: screener.screen(h) for h in hosts}
    covered = {ip: r["producer"] for ip, r in results.items() if r["status"] == "covered"}
    assert covered == {"10.77.0.11": "hikvision", "10.77.0.12": "hikvision", "10.77.0.13": "dahua",
                       "10.77.0.14": "hikvision", "10.77.0.15": "huawei", "10.77.0.16": "zte"}
    assert all(r["status"] == "clear" for ip, r in results.items() if ip not in covered)
    zte = results["10.77.0.16"]
    assert any(e["signal"] == "model" and e["value"].startswith("ZXV10") for e in zte["evidence"])


@pytest.mark.parametrize("name,message", [
    ("assets_hostile.xml", "refused: the XML declares entities"),
    ("assets_xxe.xml", "refused: the XML declares entities"),
    ("assets_inventory.csv", "not well-formed XML"),
])
def test_bad_nmap_files(name, message):
    with pytest.raises(InputError, match=message) as info:
        read_nmap(FIXTURES / name)
    assert "\n" not in str(info.value) and name in str(info.value)


def test_nmap_wrong_root(tmp_path):
    path = tmp_path / "scan.xml"
    path.write_text("<?xml version='1.0'?><scan><host/></scan>")
    with pytest.raises(InputError, match="expected <nmaprun>"):
        read_nmap(path)


# -- whole inventories --------------------------------------------------------------------------

#: Asset Tag -> (expected status, producer): the labelled truth of assets_inventory.csv.
EXPECTED = {
    **{tag: ("covered", p) for tag, p in {
        "CAM-0001": "hikvision", "NVR-0002": "hikvision", "PTZ-0003": "hikvision", "CAM-0004": "dahua",
        "NVR-0005": "dahua", "PTZ-0006": "dahua", "SW-0007": "huawei", "RTR-0008": "huawei", "ONT-0009": "huawei",
        "ONT-0010": "zte", "LTE-0011": "zte", "RAD-0012": "hytera", "RAD-0013": "hytera", "CAM-0014": "hikvision",
        "CAM-0015": "hikvision", "CAM-0016": "hikvision", "MV-0017": "hikvision", "RAD-0018": "hytera",
        "TAB-0019": "huawei",
        # relabelled / OEM
        "CAM-0020": "hikvision", "NVR-0021": "hikvision", "CAM-0022": "dahua", "CAM-0023": "hikvision",
        "CAM-0024": "dahua", "LTE-0025": "huawei",
        # unlabelled
        "UNK-0026": "hikvision", "UNK-0027": "hikvision", "UNK-0028": "dahua",
    }.items()},
    **{tag: ("clear", None) for tag in (
        "UNK-0029", "CAM-0030", "CAM-0031", "NVR-0032", "SW-0033", "RTR-0034", "CAM-0035", "CAM-0036", "CAM-0037",
        "CAM-0038", "AP-0039", "SW-0040", "SW-0041", "AP-0042", "CAM-0043", "CAM-0044", "SRV-0045", "IOT-0046",
        "HH-0047", "RAD-0048", "NAS-0049", "PHN-0050", "SCP-0051", "PHN-0052",
    )},
    # weak evidence only: an ended relation, an unconfirmed one, a short model code, a shared word
    **{tag: ("review", p) for tag, p in {
        "CAM-0053": "dahua", "PHN-0054": "huawei", "THM-0055": "hikvision", "CAM-0056": "dahua", "IOT-0057": "dahua",
    }.items()},
}
RELABELLED = ("CAM-0020", "NVR-0021", "CAM-0022", "CAM-0023", "CAM-0024", "LTE-0025")


@pytest.fixture(scope="module")
def inventory_records():
    run = InventoryRun(INVENTORY, as_of=AS_OF)
    return run, list(run.records())


def test_inventory_fixture_is_realistic():
    rows = list(csv.DictReader(INVENTORY.open(encoding="utf-8")))
    assert len(rows) >= 40
    assert sum(1 for r in rows if EXPECTED[r["Asset Tag"]][0] == "covered") >= 20
    assert sum(1 for r in rows if not r["Manufacturer"] and not r["Brand"]) >= 4  # unlabelled
    with_mac = [r for r in rows if r["MAC Address"]]
    assert len(with_mac) >= 35 and all(registrant(r["MAC Address"].replace(":", "")[:6]) for r in with_mac
                                       if not int(r["MAC Address"][:2], 16) & 2), "real OUIs"


def test_inventory_every_covered_device_found_none_falsely(inventory_records):
    run, records = inventory_records
    assert [r["row"] for r in records] == list(range(len(EXPECTED))), "one record per row, in order"
    got = {r["input"]["Asset Tag"]: (r["status"], r["producer"]) for r in records}
    assert got == EXPECTED
    assert run.counts["covered"] == 28 and run.counts["error"] == 0 and run.exit_code == 1
    for record in records:
        if record["input"]["Asset Tag"] in RELABELLED:
            assert "contradiction" in record["summary"], record["summary"]
        if record["status"] in ("covered", "review"):
            assert record["rules"] and record["evidence"]


def test_inventory_mapping_is_by_header(inventory_records):
    run, _ = inventory_records
    assert run.mapping.fields == {
        "asset_id": "Asset Tag", "manufacturer": "Manufacturer", "brand": "Brand", "model": "Model",
        "mac": "MAC Address", "hostname": "Hostname", "ip": "IP Address", "description": "Description",
    }


def test_map_override(tmp_path):
    path = tmp_path / "odd.csv"
    path.write_text("Tag,Fabricant,Part No\nX1,Hikvision,DS-2CD2143G2-I\nX2,Axis,P3245-LV\n", encoding="utf-8")
    with pytest.raises(InputError, match="no column to screen"):
        InventoryRun(path)
    run = InventoryRun(path, maps=["manufacturer=Fabricant", "model=Part No"], as_of=AS_OF)
    assert [r["status"] for r in run.records()] == ["covered", "clear"]
    with pytest.raises(InputError, match="no column 'Nope'"):
        InventoryRun(path, maps=["model=Nope"])


def test_bad_inventories_give_per_row_errors():
    with pytest.raises(InputError, match="assets_bad_columns.csv: no column to screen.*'Room', 'Owner'"):
        InventoryRun(FIXTURES / "assets_bad_columns.csv")
    records = list(InventoryRun(FIXTURES / "assets_bad_rows.csv", as_of=AS_OF).records())
    by_tag = {r["input"].get("Asset Tag"): r for r in records}
    assert len(records) == 8
    assert by_tag["OK-1"]["status"] == "covered" and by_tag["OK-7"]["status"] == "clear"
    expected = {
        "BAD-2": "line 3: field 'mac': 'GG:HH:II:JJ:KK:LL' is not a MAC address",
        "BAD-3": "line 4: field 'mac': '74:C9:29:5E' has 8 hex digits",
        "BAD-4": "line 5: field 'manufacturer' holds the control",
        "BAD-5": "line 6: nothing to screen",
        "BAD-6": "line 7: 7 cells but the header has 5",
        "BAD-8": "line 9: field 'mac': '01:00:5E:00:00:01' is a multicast",
    }
    for tag, message in expected.items():
        assert by_tag[tag]["status"] == "error" and message in by_tag[tag]["error"], by_tag[tag]
        assert "\n" not in by_tag[tag]["error"]
    assert by_tag["BAD-3"]["producer"] == "dahua", "the model's evidence stays with the MAC error"


def test_undecodable_bytes_are_a_row_error():
    records = list(InventoryRun(FIXTURES / "assets_bad_bytes.csv", encoding="utf-8", as_of=AS_OF).records())
    assert [r["status"] for r in records] == ["covered", "error", "clear"]
    assert "line 3: column 'Manufacturer' has bytes that are not valid" in records[1]["error"]


def test_binary_file_is_refused(tmp_path):
    path = tmp_path / "inventory.csv"
    path.write_bytes(b"\x00\x01\x02junk" * 100)
    with pytest.raises(InputError, match="binary"):
        InventoryRun(path)


def test_xlsx_inventory_and_outputs(tmp_path):
    from openpyxl import Workbook, load_workbook

    book = Workbook()
    sheet = book.active
    sheet.append(["Asset", "Make", "Model Number", "MAC"])
    sheet.append(["A1", "Dahua", "IPC-HFW2431S-S-S2", "74:C9:29:5E:40:04"])
    sheet.append(["A2", "Axis", "P3245-LV", None])
    source = tmp_path / "inventory.xlsx"
    book.save(source)
    out = tmp_path / "results.xlsx"
    run = screen_inventory(source, output=out, fmt="xlsx", as_of=AS_OF)
    assert run.counts["covered"] == 1 and run.counts["clear"] == 1
    result = load_workbook(out, read_only=True)
    assert result.sheetnames == ["assets", "evidence", "rules"]
    rows = list(result["assets"].iter_rows(values_only=True))
    assert rows[0][:3] == ("row", "status", "producer") and rows[1][1] == "covered" and rows[2][1] == "clear"
    assert rows[0][-4:] == ("Asset", "Make", "Model Number", "MAC") and rows[1][-4] == "A1"
    evidence = list(result["evidence"].iter_rows(values_only=True))
    assert evidence[0][:3] == ("row", "signal", "field") and len(evidence) == 4
    rules = list(result["rules"].iter_rows(values_only=True))
    assert any("889(a)(1)(A)" in str(r) for r in rules)


def test_csv_output_neutralises_formulas(tmp_path):
    source = tmp_path / "inventory.csv"
    source.write_text('Asset,Manufacturer,Model\nA2,"=HYPERLINK(""http://x"",""Axis"")",P3245-LV\n', encoding="utf-8")
    out = tmp_path / "results.csv"
    screen_inventory(source, output=out, fmt="csv", as_of=AS_OF)
    text = out.read_text(encoding="utf-8-sig")
    assert text.splitlines()[0].startswith("row,status,producer,signals,rules,citations,summary,error,Asset")
    assert "'=HYPERLINK" in text and ",=HYPERLINK" not in text


def test_html_report_escapes_input(tmp_path):
    source = tmp_path / "inventory.csv"
    source.write_text("Asset,Manufacturer,Model\n<script>alert(1)</script>,Hikvision,DS-2CD2143G2-I\n", encoding="utf-8")
    out = tmp_path / "report.html"
    screen_inventory(source, output=out, fmt="html", as_of=AS_OF)
    page = out.read_text(encoding="utf-8")
    assert "<script>alert(1)</script>" not in page and "&lt;script&gt;" in page
    assert "889(a)(1)(A)" in page and "covered" in page


def test_inventory_joined_with_a_scan(tmp_path):
    source = tmp_path / "inventory.csv"
    source.write_text(
        "Asset,Manufacturer,MAC,IP\n"
        "T1,Honeywell,BC:AD:28:4A:10:0B,10.77.0.11\n"  # the scan's Hikvision camera, relabelled
        "T2,Axis,,10.77.0.17\n"  # joined by IP
        "T3,Dell,,10.99.0.1\n",  # not in the scan
        encoding="utf-8",
    )
    run = InventoryRun(source, nmap=SCAN, as_of=AS_OF)
    records = list(run.records())
    assert [r["row"] for r in records] == list(range(3 + 10))
    assert records[0]["status"] == "covered" and records[0]["nmap"]["ip"] == "10.77.0.11"
    assert any(e["field"] == "services" for e in records[0]["evidence"])
    assert records[1]["status"] == "clear" and records[1]["nmap"]["mac"] == "AC:CC:8E:12:34:17"
    assert "nmap" not in records[2]
    extra = [r["input"]["ip"] for r in records[3:]]
    assert "10.77.0.11" not in extra and "10.77.0.17" not in extra and len(extra) == 10


def test_jsonl_inventory(tmp_path):
    path = tmp_path / "assets.jsonl"
    path.write_text(
        json.dumps({"id": "J1", "vendor": "ZTE Corporation", "model": "ZXHN F660", "mac": "F0:1B:24:77:A0:10"}) + "\n"
        + "not json\n"
        + json.dumps({"id": "J3", "vendor": "Tiandy", "model": "TC-C34XS"}) + "\n",
        encoding="utf-8",
    )
    records = list(InventoryRun(path, as_of=AS_OF).records())
    assert [r["status"] for r in records] == ["covered", "error", "clear"]
    assert records[0]["producer"] == "zte" and "line 2: not valid JSON" in records[1]["error"]


def test_nothing_to_screen():
    with pytest.raises(InputError, match="nothing to screen"):
        InventoryRun()
