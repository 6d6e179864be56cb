"""Covered-equipment accuracy: a larger labelled inventory, screened, scored.

    .venv/bin/python benchmarks/assets.py [--devices 600] [--seed 7] [--csv OUT.csv] [--json OUT.json]

Builds a synthetic but realistic inventory (default 600 devices) from real
material only:

* MAC addresses on real IEEE OUIs from netaddr's registry - every MA-L prefix
  registered to a covered producer or curated subsidiary (Hikvision, Hangzhou
  Ezviz Software, Hikrobot, Dahua, Huawei, Huawei Device, ZTE, Hytera, Sepura)
  and to makers that are not covered: Uniview, New H3C, Tiandy, Sunell,
  Milesight, TP-Link, Ruijie, Axis, Hanwha, Bosch, Cisco, Ubiquiti, Dell,
  Xiaomi, Zebra, Motorola Solutions, Synology, and every other Hangzhou,
  Zhejiang and Shenzhen registrant (the hardest negatives);
* real model numbers of both sides, including covered models outside the
  curated conventions (so recall is not measured against itself);
* labels as inventories hold them: full legal names, brands, upper case,
  typos (``Hikvison``, ``Dahau``), relabelled OEM equipment (``Honeywell``,
  ``LTS``, an integrator's name) and no label at all.

The truth is the device's real producer.  It prints precision and recall of
``covered`` and of ``flagged`` (covered + review) against it, by scenario,
beside two baselines: a substring search of the label for the five producer
names, and the same on nmap-style OUI vendor names.
"""

from __future__ import annotations

import argparse
import csv
import json
import random
import re
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

from clearance.assets import AssetScreener  # noqa: E402
from clearance.ownership.brands import producer_for_registrant  # noqa: E402

AS_OF = "2026-11-30"
PRODUCERS = ("hikvision", "dahua", "huawei", "zte", "hytera")

# -- labels --------------------------------------------------------------------------------

LABELS = {
    "hikvision": ["Hikvision", "HIKVISION", "Hangzhou Hikvision Digital Technology Co., Ltd.", "Hikvision USA Inc.",
                  "Hikvision Digital Technology", "海康威视"],
    "dahua": ["Dahua", "Dahua Technology", "DAHUA", "Zhejiang Dahua Technology Co., Ltd.", "Zhejiang Dahua Vision Technology Co., Ltd.",
              "Dahua Security"],
    "huawei": ["Huawei", "HUAWEI", "Huawei Technologies Co., Ltd.", "Huawei Technologies", "Huawei Device Co., Ltd.", "华为"],
    "zte": ["ZTE", "ZTE Corporation", "ZTE Corp.", "Zhongxing Telecommunication Equipment Corporation"],
    "hytera": ["Hytera", "Hytera Communications", "Hytera Communications Corporation Limited", "HYTERA"],
}
#: Brands and subsidiaries (label -> producer).
BRAND_LABELS = {"EZVIZ": "hikvision", "HiLook": "hikvision", "HiWatch": "hikvision", "Hikrobot": "hikvision",
                "Hiksemi": "hikvision", "Sepura": "hytera", "Norsat": "hytera", "HiSilicon": "huawei"}
TYPOS = {
    "hikvision": ["Hikvison", "Hikvsion", "Hik Vision", "Hikvission", "HIKVISON"],
    "dahua": ["Dahau", "Dahua Techology", "Dauha"],
    "huawei": ["Huawai", "Hua Wei", "Huawey"],
    "zte": [],  # three letters: no typo of it is recognisable
    "hytera": ["Hytra", "Hyterra"],
}
#: Names OEM equipment is sold under (relabelled); none of them is a covered producer.
OEM_LABELS = ["Honeywell", "LTS", "Acme Security", "Anixter", "Vodafone", "Orange", "Advidia", "Norelco Security",
              "Generic IP Camera Co.", "Contoso Integrators"]

# -- models ----------------------------------------------------------------------------------

COVERED_MODELS = {
    "hikvision": ["DS-2CD2143G2-I", "DS-2CD2347G2-LU", "DS-2CD2387G2-LU", "DS-2CD2T47G2-L", "DS-2CD2046G2-I", "DS-2DE4425IW-DE",
                  "DS-2DE2A404IW-DE3", "DS-7608NI-K2", "DS-7616NI-I2/16P", "DS-9632NXI-I8/S", "DS-K1T671M", "DS-2TD2166T-15",
                  "IPC-B140H", "IPC-T240H", "CS-C6N-A0-1C2WFR", "CS-CV248-A0-32WFR",
                  # outside the curated conventions: measured misses
                  "DS-2CE16D0T-IRF", "DS-KV6113-WPE1", "HWI-B140H", "MV-CA050-10GM"],
    "dahua": ["IPC-HFW2431S-S-S2", "IPC-HDW2431T-AS-S2", "IPC-HDBW2431E-S-S2", "IPC-HFW5442E-ZE", "DH-IPC-HFW1230S",
              "DHI-NVR4108HS-4KS2", "NVR4104HS-P-4KS2/L", "NVR5216-16P-4KS2E", "XVR5108HS-I3", "SD49225XA-HNR",
              "SD22204DB-GNY-W", "HAC-HFW1200T", "TPC-BF1241-T",
              "NVR608H-64-XI", "IPC-A22EP", "VTO2202F-P"],
    "huawei": ["S5735-L24T4S-A", "S5720-28X-SI-AC", "S6730-H24X6C", "CE6881-48S6CQ", "AR6120", "AR1220", "USG6510E",
               "HG8245H", "HG8145V5", "EG8145V5", "MA5800-X7", "E5577Cs-321", "E3372h-320",
               "AirEngine 5760-10", "B315s-22", "AP4050DN"],
    "zte": ["ZXHN F660", "ZXHN H298A", "ZXA10 C300", "ZXR10 5250-52TM", "F670L", "MF971R", "MF833V",
            "MC801A", "ZXV10 B860H"],
    "hytera": ["PD785G", "PD985", "PD365", "MD785", "RD985", "BD505", "HP785", "PNC380", "PT580H"],
}
OTHER_MODELS = {
    "Uniview": ["IPC2124LB-SF28KM-G", "IPC322LB-DSF28K-G", "IPC3614SB-ADF28KM-I0", "NVR301-08S3-P8", "NVR302-16S"],
    "New H3C": ["S5130S-28P-EI", "S5120V2-28P-LI", "S5560X-30C-EI", "MSR2600-10-WiNet", "WA6320"],
    "Tiandy": ["TC-C34XS", "TC-C32XN", "TC-NR5020M7-S2"],
    "Sunell": ["SN-IPR57/04UVDR", "SN-IPR8020DZBN"],
    "Milesight": ["MS-C2963-PB", "MS-C8165-PB", "MS-N5016-UPT"],
    "TP-Link": ["VIGI C340", "VIGI C540", "VIGI NVR1008H-8P", "EAP225", "TL-SG108E", "ER605"],
    "Ruijie": ["RG-S2910-24GT4XS-E", "RG-AP720-L", "RG-EG2100-P"],
    "Axis": ["P3245-LV", "M3106-L", "Q6135-LE"],
    "Hanwha": ["XNV-6080R", "QNV-8080R", "XND-6080RV"],
    "Bosch": ["NDE-5503-AL", "NBE-3502-AL"],
    "Cisco": ["C9300-48P", "C9200L-24T-4G", "ISR4331"],
    "Ubiquiti": ["U6-LR", "UVC-G4-PRO", "USW-24-POE"],
    "Dell": ["PowerEdge R750", "OptiPlex 7090", "Latitude 5440"],
    "Xiaomi": ["Redmi Note 13", "Xiaomi 14"],
    "Zebra": ["MC3300", "TC52", "ZT410"],
    "Motorola Solutions": ["APX 6000", "XPR 7550", "DP4400"],
    "Synology": ["DS920+", "DS1821+", "RS1221+"],
}
#: Registrant substrings of the makers above (their OUIs come from netaddr's registry).
OTHER_REGISTRANTS = {
    "Uniview": "zhejiang uniview", "New H3C": "new h3c", "Tiandy": "tiandy", "Sunell": "sunell", "Milesight": "milesight",
    "TP-Link": "tp-link", "Ruijie": "ruijie", "Axis": "axis communications", "Hanwha": "hanwha", "Bosch": "bosch security",
    "Cisco": "cisco systems", "Ubiquiti": "ubiquiti", "Dell": "dell inc", "Xiaomi": "xiaomi", "Zebra": "zebra technologies",
    "Motorola Solutions": "motorola solutions", "Synology": "synology",
}
OTHER_LABELS = {
    "Uniview": ["Uniview", "Zhejiang Uniview Technologies Co., Ltd.", "UNV"], "New H3C": ["H3C", "New H3C Technologies Co., Ltd."],
    "Tiandy": ["Tiandy", "Tiandy Technologies"], "Sunell": ["Sunell", "Sunell Electronics"], "Milesight": ["Milesight", "Xiamen Milesight IoT"],
    "TP-Link": ["TP-Link", "TP-LINK", "VIGI"], "Ruijie": ["Ruijie", "Ruijie Networks"], "Axis": ["Axis", "Axis Communications"],
    "Hanwha": ["Hanwha Vision", "Wisenet"], "Bosch": ["Bosch", "Bosch Security Systems"], "Cisco": ["Cisco", "Cisco Systems"],
    "Ubiquiti": ["Ubiquiti", "UniFi"], "Dell": ["Dell", "Dell Inc."], "Xiaomi": ["Xiaomi"], "Zebra": ["Zebra Technologies", "Zebra"],
    "Motorola Solutions": ["Motorola Solutions", "Motorola"], "Synology": ["Synology"],
}
#: Businesses that share a word (or a stem) with a covered name but are not covered.
HARD_NEGATIVE_LABELS = ["Teltronics", "ZTEC Instruments", "Honor Guard Security", "Hisense", "Hangzhou Xiongmai Technology",
                        "Hangzhou BroadLink Technology", "Dahua Foods", "Huawei Hotel Supplies", "Shenzhen Hikeen Technology"]


def _oui_pools() -> tuple[dict[str, list[str]], dict[str, list[str]], list[tuple[str, str]]]:
    """(producer -> OUIs, other maker -> OUIs, [(OUI, registrant) of other Chinese firms])."""
    import netaddr.eui

    covered: dict[str, list[str]] = defaultdict(list)
    other: dict[str, list[str]] = defaultdict(list)
    chinese: list[tuple[str, str]] = []
    line = re.compile(r"^\s*([0-9A-F]{2}-[0-9A-F]{2}-[0-9A-F]{2})\s+\(hex\)\s+(.+?)\s*$")
    seen: dict[str, str | None] = {}
    with open(Path(netaddr.eui.__file__).parent / "oui.txt", encoding="utf-8", errors="replace") as fh:
        for raw in fh:
            m = line.match(raw)
            if not m:
                continue
            oui, org = m.group(1).replace("-", ""), m.group(2)
            if org not in seen:
                found = producer_for_registrant(org, AS_OF)
                seen[org] = found.producer if found is not None and found.status == "covered" else ("-" if found else None)
            producer = seen[org]
            if producer in PRODUCERS:
                covered[producer].append(oui)
                continue
            if producer == "-":
                continue  # an ended or unconfirmed relation: neither side's truth
            low = org.lower()
            for maker, needle in OTHER_REGISTRANTS.items():
                if needle in low:
                    other[maker].append(oui)
                    break
            else:
                if low.startswith(("hangzhou", "zhejiang", "shenzhen")):
                    chinese.append((oui, org))
    return covered, other, chinese


def _mac(rng: random.Random, oui: str) -> str:
    tail = "".join(rng.choice("0123456789ABCDEF") for _ in range(6))
    hexes = oui + tail
    sep = rng.choice([":", ":", ":", "-", "."])
    if sep == ".":
        return ".".join(hexes[i : i + 4] for i in range(0, 12, 4)).lower()
    return sep.join(hexes[i : i + 2] for i in range(0, 12, 2))


def build(devices: int, seed: int) -> list[dict]:
    rng = random.Random(seed)
    covered_ouis, other_ouis, chinese = _oui_pools()
    rows: list[dict] = []
    scenarios = ["labelled"] * 30 + ["brand"] * 8 + ["typo"] * 8 + ["relabelled"] * 14 + ["unlabelled"] * 12
    n_covered = devices * 2 // 5
    for k in range(devices):
        row = {"asset_id": f"AST-{k:05d}", "manufacturer": "", "brand": "", "model": "", "mac": "", "description": ""}
        if k < n_covered:
            scenario = rng.choice(scenarios)
            if scenario == "brand":
                label, producer = rng.choice(sorted(BRAND_LABELS.items()))
                row["brand"] = label
            else:
                producer = rng.choice(PRODUCERS)
            if scenario == "typo" and not TYPOS[producer]:
                scenario = "labelled"
            if scenario == "labelled":
                row["manufacturer"] = rng.choice(LABELS[producer])
            elif scenario == "typo":
                row["manufacturer"] = rng.choice(TYPOS[producer])
            elif scenario == "relabelled":
                row["manufacturer"] = rng.choice(OEM_LABELS)
            has_mac = rng.random() < (0.85 if scenario in ("relabelled", "unlabelled") else 0.6) and producer != "hytera"
            has_model = rng.random() < 0.7 or (not has_mac and scenario in ("relabelled", "unlabelled"))
            if has_mac:
                row["mac"] = _mac(rng, rng.choice(covered_ouis[producer]))
            if has_model:
                row["model"] = rng.choice(COVERED_MODELS[producer])
            row["truth"] = producer
        else:
            roll = rng.random()
            if roll < 0.15:
                scenario = "chinese-registrant"
                oui, org = rng.choice(chinese)
                row["manufacturer"] = org if rng.random() < 0.6 else ""
                row["mac"] = _mac(rng, oui)
            elif roll < 0.22:
                scenario = "shared-word"
                row["manufacturer"] = rng.choice(HARD_NEGATIVE_LABELS)
            elif roll < 0.27:
                scenario = "randomised-mac"
                # locally administered unicast: second hex digit 2, 6, A or E
                first = rng.choice("0123456789ABCDEF") + rng.choice("26AE")
                row["mac"] = _mac(rng, first + "".join(rng.choice("0123456789ABCDEF") for _ in range(4)))
                row["description"] = rng.choice(["guest phone", "laptop", "visitor tablet"])
            else:
                scenario = "other-maker"
                maker = rng.choice(sorted(OTHER_MODELS))
                if rng.random() < 0.8:
                    row["manufacturer"] = rng.choice(OTHER_LABELS[maker])
                if rng.random() < 0.7 and other_ouis.get(maker):
                    row["mac"] = _mac(rng, rng.choice(other_ouis[maker]))
                if rng.random() < 0.8 or not (row["manufacturer"] or row["mac"]):
                    row["model"] = rng.choice(OTHER_MODELS[maker])
            row["truth"] = ""
        row["scenario"] = scenario
        rows.append(row)
    rng.shuffle(rows)
    return rows


def _baseline_label(row: dict) -> bool:
    text = f"{row['manufacturer']} {row['brand']}".lower()
    return any(p in text for p in PRODUCERS)


def _baseline_vendor(row: dict, vendors: dict[str, str]) -> bool:
    if not row["mac"]:
        return False
    oui = re.sub(r"[^0-9A-Fa-f]", "", row["mac"])[:6].upper()
    return any(p in vendors.get(oui, "").lower() for p in PRODUCERS)


def _scores(pairs: list[tuple[bool, bool]]) -> dict:
    tp = sum(1 for t, p in pairs if t and p)
    fp = sum(1 for t, p in pairs if not t and p)
    fn = sum(1 for t, p in pairs if t and not p)
    precision = tp / (tp + fp) if tp + fp else 1.0
    recall = tp / (tp + fn) if tp + fn else 1.0
    return {"tp": tp, "fp": fp, "fn": fn, "precision": round(precision, 4), "recall": round(recall, 4)}


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--devices", type=int, default=600)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--csv", help="also write the labelled inventory (with the results) here")
    parser.add_argument("--json", help="write the scores here")
    args = parser.parse_args(argv)

    rows = build(args.devices, args.seed)
    screener = AssetScreener(AS_OF)
    started = time.perf_counter()
    results = [screener.screen(r, row=k) for k, r in enumerate(rows)]
    elapsed = time.perf_counter() - started

    from clearance.assets.mac import registrant

    vendors = {}
    for r in rows:
        if r["mac"]:
            oui = re.sub(r"[^0-9A-Fa-f]", "", r["mac"])[:6].upper()
            reg = registrant(oui)
            vendors[oui] = reg.org if reg else ""

    truth = [bool(r["truth"]) for r in rows]
    report = {
        "devices": len(rows),
        "covered_truth": sum(truth),
        "as_of": AS_OF,
        "seed": args.seed,
        "seconds": round(elapsed, 3),
        "covered": _scores([(t, res["status"] == "covered") for t, res in zip(truth, results)]),
        "flagged": _scores([(t, res["status"] in ("covered", "review")) for t, res in zip(truth, results)]),
        "producer_correct": sum(1 for r, res in zip(rows, results) if r["truth"] and res["producer"] == r["truth"]),
        "baseline_label_substring": _scores([(t, _baseline_label(r)) for t, r in zip(truth, rows)]),
        "baseline_oui_vendor_substring": _scores([(t, _baseline_vendor(r, vendors)) for t, r in zip(truth, rows)]),
        "statuses": dict(Counter(res["status"] for res in results)),
        "by_scenario": {},
    }
    groups: dict[str, list[int]] = defaultdict(list)
    for k, r in enumerate(rows):
        groups[r["scenario"]].append(k)
    for scenario, ks in sorted(groups.items()):
        statuses = Counter(results[k]["status"] for k in ks)
        report["by_scenario"][scenario] = {"devices": len(ks), "truth": "covered" if rows[ks[0]]["truth"] else "not covered", **statuses}

    print(f"Covered-equipment benchmark: {report['devices']} devices ({report['covered_truth']} covered), seed {args.seed}, "
          f"as of {AS_OF}, screened in {elapsed:.2f}s ({len(rows) / elapsed:,.0f} devices/s)")
    print(f"{'':34} {'precision':>9} {'recall':>7} {'tp':>5} {'fp':>4} {'fn':>4}")
    for key, name in (("covered", "clearance: covered"), ("flagged", "clearance: covered + review"),
                      ("baseline_label_substring", "baseline: label contains a name"),
                      ("baseline_oui_vendor_substring", "baseline: OUI vendor contains a name")):
        s = report[key]
        print(f"{name:34} {s['precision']:>9.3f} {s['recall']:>7.3f} {s['tp']:>5} {s['fp']:>4} {s['fn']:>4}")
    print(f"producer right on {report['producer_correct']} of {report['covered_truth']} covered devices")
    print("by scenario (status counts):")
    for scenario, data in report["by_scenario"].items():
        counts = ", ".join(f"{s} {data[s]}" for s in ("covered", "review", "clear", "error") if data.get(s))
        print(f"  {scenario:20} {data['truth']:12} {data['devices']:>4}: {counts}")
    misses = [(r, res) for r, res in zip(rows, results) if r["truth"] and res["status"] != "covered"]
    false = [(r, res) for r, res in zip(rows, results) if not r["truth"] and res["status"] != "clear"]
    for title, items in (("missed (not covered)", misses), ("non-covered flagged", false)):
        print(f"{title}: {len(items)}")
        for r, res in items[:8]:
            print(f"  {res['status']:7} {r['scenario']:16} {r['manufacturer'] or r['brand'] or '-'!r:32} {r['model'] or '-':22} {r['mac'] or '-'}")
    if args.csv:
        with open(args.csv, "w", newline="", encoding="utf-8") as fh:
            writer = csv.writer(fh)
            writer.writerow(["asset_id", "manufacturer", "brand", "model", "mac", "description", "truth", "scenario", "status", "producer"])
            for r, res in zip(rows, results):
                writer.writerow([r["asset_id"], r["manufacturer"], r["brand"], r["model"], r["mac"], r["description"],
                                 r["truth"], r["scenario"], res["status"], res["producer"] or ""])
    if args.json:
        Path(args.json).write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    return report


if __name__ == "__main__":
    main()
