"""Section 889 producers behind brands, manufacturer names, OUI registrants and MACs."""

from __future__ import annotations

import pytest

from clearance.errors import SourceError
from clearance.ownership.brands import (
    PRODUCERS,
    load_affiliates,
    oui_prefixes,
    producer_for_mac,
    producer_for_registrant,
    resolve_producer,
)


def test_curated_rows_have_sources_and_dates():
    rows = load_affiliates()
    assert {r.producer for r in rows if r.relation == "producer"} == set(PRODUCERS)
    for row in rows:
        assert row.source and row.date, row
    names = {r.name for r in rows}
    for expected in ("Hangzhou EZVIZ Network Co., Ltd.", "HiLook", "HiWatch", "Hangzhou Hikrobot Co., Ltd.", "Hikvision USA, Inc.",
                     "Imou", "Dahua Technology USA Inc.", "Huawei Device Co., Ltd.", "ZTE Kangxun Telecommunications Ltd."):
        assert expected in names


@pytest.mark.parametrize(
    ("text", "producer", "signal", "status"),
    [
        ("EZVIZ C6N 1080p Wi-Fi camera", "hikvision", "brand", "covered"),
        ("HiLook IPC-B120H", "hikvision", "brand", "covered"),
        ("HIKSEMI NEO SSD 1TB", "hikvision", "brand", "covered"),
        ("Hangzhou Hikvision Digital Technology Co.,Ltd.", "hikvision", "manufacturer", "covered"),
        ("海康威视", "hikvision", "manufacturer", "covered"),
        ("萤石 C6CN", "hikvision", "brand", "covered"),
        ("Zhejiang Dahua Technology Co., Ltd.", "dahua", "manufacturer", "covered"),
        ("Imou Ranger 2", "dahua", "brand", "review"),  # brand ownership not yet confirmed
        ("Lorex 4K NVR", "dahua", "brand", "review"),  # divested in 2022
        ("Huawei Device Co., Ltd.", "huawei", "manufacturer", "covered"),
        ("ZTE MF971R hotspot", "zte", "brand", "covered"),
        ("Sepura SC20", "hytera", "brand", "covered"),
    ],
)
def test_resolve_producer(text, producer, signal, status):
    found = resolve_producer(text, as_of="2026-01-15")
    assert found is not None, text
    assert (found.producer, found.signal, found.status) == (producer, signal, status)
    evidence = found.evidence()
    assert evidence["signal"] == signal and evidence["value"] == text and found.matched.source in evidence["detail"]


def test_relations_are_dated():
    assert resolve_producer("Lorex Technology Inc.", as_of="2020-06-01").status == "covered"
    assert resolve_producer("Lorex Technology Inc.", as_of="2024-06-01").status == "review"
    assert resolve_producer("Honor Device Co., Ltd.", as_of="2019-06-01").status == "covered"
    assert resolve_producer("Honor Device Co., Ltd.", as_of="2021-06-01").status == "review"


@pytest.mark.parametrize("text", ["Acme Cameras", "Honor Guard Security Services", "Axis M3106", "", None])
def test_no_false_producers(text):
    assert resolve_producer(text) is None


def test_oui_registrants_resolve_to_producers():
    for registrant, producer in [
        ("Hangzhou Hikvision Digital Technology Co.,Ltd.", "hikvision"),
        ("Hangzhou Ezviz Software Co.,Ltd.", "hikvision"),
        ("Zhejiang Dahua Technology Co., Ltd.", "dahua"),
        ("HUAWEI TECHNOLOGIES CO.,LTD", "huawei"),
        ("zte corporation", "zte"),
        ("Hytera Communications Corporation Limited", "hytera"),
    ]:
        found = producer_for_registrant(registrant)
        assert found is not None and found.producer == producer and found.signal == "oui"
    assert producer_for_registrant("Axis Communications AB") is None


def test_netaddr_registry_prefixes_and_macs():
    prefixes = oui_prefixes()
    assert set(prefixes.values()) == set(PRODUCERS)
    ezviz = [p for p, v in prefixes.items() if v == "hikvision" and producer_for_mac(p + "-00-00-01").matched.name.startswith("Hangzhou EZVIZ")]
    assert ezviz, "netaddr's registry should hold an EZVIZ OUI"
    found = producer_for_mac(ezviz[0].replace("-", ":") + ":12:34:56")
    assert found.producer == "hikvision" and found.evidence()["signal"] == "oui"
    assert producer_for_mac("not a mac") is None


def test_bad_curated_file_names_the_line(tmp_path):
    bad = tmp_path / "covered.csv"
    header = "producer,name,relation,parent,percent,chinese_name,aliases,country,oui_registrants,matching,start,end,status,source,date\n"
    bad.write_text(header + "acme,Acme,producer,,,,,,,token,,,confirmed,src,2020-01-01\n", encoding="utf-8")
    with pytest.raises(SourceError, match="line 2.*producer"):
        load_affiliates(str(bad))
    bad.write_text(header + "hikvision,Hikvision,owner,,,,,,,token,,,confirmed,src,2020-01-01\n", encoding="utf-8")
    with pytest.raises(SourceError, match="line 2.*relation 'owner'; expected one of producer, subsidiary, brand, affiliate"):
        load_affiliates(str(bad))
    bad.write_text(header + "hikvision,Hikvision,producer,,,,,,,token,2020-13-01,,confirmed,src,2020-01-01\n", encoding="utf-8")
    with pytest.raises(SourceError, match="line 2.*start.*'2020-13-01' is not a date"):
        load_affiliates(str(bad))
