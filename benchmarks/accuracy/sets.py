"""Labelled evaluation sets built from the bundled list entries.

Positive kinds (each case names the entity that must be flagged):

* ``latin_*``: Latin-script variants of organisation names -- formatting
  (case, punctuation), legal-form swaps, one typo, swapped tokens, a dropped
  token, added diacritics, Cyrillic transliteration;
* ``person_*``: people -- "First Last" for "LAST, First", one typo, both;
* ``brand``: short and brand forms (curated ``brands.csv`` plus the
  distinctive word of multi-word company names);
* ``chinese``: Chinese-script legal names of listed Chinese companies
  (curated ``chinese_names.csv``, each with its source).

Negative kinds (nothing may be flagged):

* ``hard_negative``: real companies that are not listed but share words with
  listed names (curated ``hard_negatives.csv``);
* ``random_negative``: synthetic but realistic company and person names in
  several scripts; names whose normalised tokens equal a listed name's are
  dropped (those are namesakes, which a screener must flag).
"""

from __future__ import annotations

import csv
import random
import re
from collections import Counter
from pathlib import Path

from clearance.match.normalize import analyze
from clearance.model import Entity

HERE = Path(__file__).resolve().parent

LEGAL_SWAPS = [
    ("CO., LTD.", "Company Limited"), ("COMPANY LIMITED", "Co. Ltd"), ("LIMITED", "Ltd"), ("LTD", "Limited"),
    ("LLC", "L.L.C."), ("CORPORATION", "Corp."), ("INC.", "Incorporated"), ("GMBH", "Gesellschaft mit beschränkter Haftung"),
    ("OOO", "ООО"), ("S.A.", "SA"), ("JOINT STOCK COMPANY", "JSC"), ("JSC", "Joint Stock Company"),
]

CYRILLIC = [
    ("shch", "щ"), ("kh", "х"), ("ts", "ц"), ("ch", "ч"), ("sh", "ш"), ("zh", "ж"), ("yu", "ю"), ("ya", "я"),
    ("a", "а"), ("b", "б"), ("v", "в"), ("g", "г"), ("d", "д"), ("e", "е"), ("z", "з"), ("i", "и"), ("y", "ы"),
    ("k", "к"), ("l", "л"), ("m", "м"), ("n", "н"), ("o", "о"), ("p", "п"), ("r", "р"), ("s", "с"), ("t", "т"),
    ("u", "у"), ("f", "ф"),
]
ACCENTS = {"a": "á", "e": "é", "i": "í", "o": "ö", "u": "ü", "n": "ñ", "c": "ç", "s": "ş"}


def _read(name: str) -> list[dict[str, str]]:
    with (HERE / name).open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def _case(kind: str, name: str, expected: list[str], schema: str | None = None) -> dict:
    return {"kind": kind, "query": name, "schema": schema, "expected": expected}


def _typo(rng: random.Random, token: str) -> str:
    i = rng.randrange(1, len(token) - 1)
    op = rng.choice("sdit")
    letters = "abcdefghijklmnopqrstuvwxyz"
    if op == "s":
        return token[:i] + rng.choice(letters.replace(token[i].lower(), "")) + token[i + 1 :]
    if op == "d":
        return token[:i] + token[i + 1 :]
    if op == "i":
        return token[:i] + rng.choice(letters) + token[i:]
    return token[:i] + token[i + 1] + token[i] + token[i + 2 :] if token[i] != token[i + 1] else token[:i] + token[i + 1 :]


def _typo_name(rng: random.Random, name: str) -> str | None:
    words = name.split()
    spots = [i for i, w in enumerate(words) if len(w) >= 5 and w.isalpha()]
    if not spots:
        return None
    i = rng.choice(spots)
    words[i] = _typo(rng, words[i])
    return " ".join(words)


def _to_cyrillic(name: str) -> str:
    out = name.lower()
    for latin, cyr in CYRILLIC:
        out = out.replace(latin, cyr)
    return out


def _latin(name: str) -> bool:
    return bool(name) and all(ord(c) < 0x250 for c in name)


def build_sets(corpus: list[tuple[str, Entity]], seed: int = 7, per_kind: int = 300) -> dict[str, list[dict]]:
    rng = random.Random(seed)
    orgs = [(s, e) for s, e in corpus if e.schema in ("Company", "Organization", "LegalEntity") and _latin(e.caption)]
    people = [(s, e) for s, e in corpus if e.schema == "Person" and _latin(e.caption)]
    rng.shuffle(orgs)
    rng.shuffle(people)
    sets: dict[str, list[dict]] = {}

    def take(kind, pool, make, schema=None):
        cases = []
        for _, entity in pool:
            if len(cases) >= per_kind:
                break
            query = make(entity.caption)
            if query and query != entity.caption and analyze(query):
                cases.append(_case(kind, query, [entity.id], schema))
        sets[kind] = cases

    take("latin_format", orgs, lambda n: re.sub(r"[^\w\s]", " ", n).lower().title())
    take("latin_typo", orgs, lambda n: _typo_name(rng, n))

    def legal(n):
        for old, new in LEGAL_SWAPS:
            pattern = rf"(?<![\w.]){re.escape(old)}\W*$"
            if re.search(pattern, n):
                return re.sub(pattern, new, n, count=1)
        return None

    take("latin_legal_form", orgs, legal)

    def swap(n):
        words = n.replace(",", "").split()
        if len(words) < 2:
            return None
        i = rng.randrange(len(words) - 1)
        words[i], words[i + 1] = words[i + 1], words[i]
        return " ".join(words)

    take("latin_swap", orgs, swap)

    def drop(n):
        words = n.replace(",", "").split()
        if len(words) < 4:
            return None
        del words[rng.randrange(1, len(words))]
        return " ".join(words)

    take("latin_drop_token", orgs, drop)

    def accents(n):
        return "".join(ACCENTS.get(c.lower(), c) if rng.random() < 0.3 else c for c in n)

    take("latin_diacritics", orgs, accents)
    russian = [(s, e) for s, e in people + orgs if {"Russia", "ru"} & set(e.get("country") + e.get("nationality") + e.get("citizenship"))]
    take("latin_cyrillic_translit", russian, lambda n: _to_cyrillic(n.replace(",", "")))

    def first_last(n):
        if "," not in n:
            return None
        last, _, first = n.partition(",")
        return f"{first.strip()} {last.strip()}".title()

    take("person_reorder", people, first_last, None)
    take("person_typo", people, lambda n: _typo_name(rng, n), None)
    take("person_reorder_typo", people, lambda n: _typo_name(rng, first_last(n) or n), None)

    # short and brand forms
    brand_cases = []
    for row in _read("brands.csv"):
        ids = [e.id for _, e in corpus if e.caption.upper() == row["expected_name"].upper()]
        if ids:
            brand_cases.append(_case("brand", row["brand"], ids))
    companies = [(s, e) for s, e in orgs if e.schema in ("Company", "Organization")]
    df = Counter(t for _, e in orgs + people for t in {t for f in analyze(e.caption) for t in f.strong_tokens})
    auto = []
    for _, entity in companies:
        forms = analyze(entity.caption)
        if not forms or len(forms[0].strong_tokens) < 2:
            continue
        distinctive = [t for t in forms[0].strong_tokens[:2] if df[t] == 1 and len(t) >= 6 and t.isalpha()]
        if distinctive:
            auto.append(_case("brand", distinctive[0].title(), [entity.id]))
        if len(auto) >= per_kind - len(brand_cases):
            break
    sets["brand"] = brand_cases + auto

    chinese = []
    for row in _read("chinese_names.csv"):
        ids = [e.id for _, e in corpus if e.caption.upper() == row["expected_name"].upper()]
        if ids:
            chinese.append(_case("chinese", row["chinese"], ids))
        else:
            print(f"warning: chinese_names.csv: {row['expected_name']!r} not in the corpus")
    sets["chinese"] = chinese

    sets["hard_negative"] = [_case("hard_negative", row["name"], []) for row in _read("hard_negatives.csv")]
    sets["random_negative"] = random_negatives(corpus, rng, 2000)
    return sets


COMPANY_WORDS = """Acme Apex Atlas Aurora Beacon Birch Bluewater Brightline Cascade Cedar Clearwater Cobalt Crescent
Delta Eastgate Elm Evergreen Falcon Fjord Foxglove Granite Greenfield Harbor Highland Horizon Ironwood Juniper
Keystone Lakeside Lindqvist Maple Meridian Millbrook Northwind Oakridge Orchard Pacific Pinecrest Prairie Quarry
Redwood Ridgeway Riverside Sapphire Silverline Southport Summit Sunrise Tamarack Thornbury Trident Valley Westbrook
Willow Zenith Bergmann Castellano Dubois Fischer Gallagher Hoffmann Jansen Kowalski Larsen Moreau Novak Olsen
Petrov Rossi Schneider Tanaka Vasquez Weber Yamamoto Zimmermann Sakura Nordic Alpine Coastal Metro Urban""".split()
INDUSTRY = """Logistics Trading Textiles Foods Dairy Bakery Plastics Packaging Consulting Software Analytics Dental
Veterinary Furniture Flooring Roofing Plumbing Electrical Pharmacy Optics Printing Publishing Media Studios Travel
Tours Hotels Catering Brewing Coffee Tea Farms Orchards Nurseries Landscaping Cleaning Security Staffing Recruiting
Insurance Brokers Realty Properties Construction Engineering Machinery Tools Hardware Paints Coatings Glass Ceramics
Outfitters Apparel Footwear Jewelers Cosmetics Wellness Fitness Clinic Laboratories Diagnostics Biotech Robotics""".split()
SUFFIX = ["LLC", "Inc.", "Ltd", "GmbH", "AB", "S.A.", "B.V.", "Pty Ltd", "Co.", "Corporation", "", "Group", "& Sons", "SARL", "S.p.A."]
FIRST = """James Mary Robert Patricia John Jennifer Michael Linda David Elizabeth William Barbara Richard Susan Joseph
Jessica Thomas Sarah Charles Karen Lukas Emma Mateo Sofia Hugo Chloe Lars Ingrid Pierre Camille Giulia Marco
Hiroshi Yuki Minjun Seoyeon Arjun Priya Rahul Ananya Kwame Amara Chidi Ngozi Olga Dmitri Svetlana Pavel Wei Fang
Jing Lei Mei Tao Jose Lucia Carlos Valentina Diego Isabella Henrik Astrid Tomasz Agnieszka Mehmet Elif Yusuf Leila""".split()
LAST = """Smith Johnson Williams Brown Jones Garcia Miller Davis Rodriguez Martinez Anderson Taylor Thomas Moore
Jackson Martin Lee Thompson White Harris Clark Lewis Walker Hall Young King Wright Scott Green Baker Adams Nelson
Hill Campbell Mitchell Roberts Carter Phillips Evans Turner Schmidt Muller Dubois Lefebvre Rossi Bianchi Kowalski
Nowak Novak Horvat Nielsen Hansen Johansson Lindberg Tanaka Suzuki Sato Kim Park Choi Sharma Patel Gupta Mensah
Okafor Adeyemi Ivanova Sokolov Kuznetsov Popescu Yilmaz Demir Fernandes Oliveira Santos Silva Costa""".split()
CYR_NAMES = ["Анна Смирнова", "Игорь Кузнецов", "Мария Попова", "Сергей Васильев", "Елена Новикова", "Андрей Морозов",
             "Ольга Волкова", "Павел Соловьёв", "Татьяна Лебедева", "Николай Козлов", "ООО Северный Ветер", "ООО Ромашка",
             "АО Солнечный Берег", "ООО Лесная Поляна", "ИП Ковалёва"]
ZH_NAMES = ["王伟", "李娜", "张敏", "刘洋", "陈静", "杨帆", "赵磊", "黄丽", "周杰", "吴倩", "上海明华贸易有限公司", "广州绿叶食品有限公司",
            "苏州恒通物流有限公司", "杭州青山茶业有限公司", "成都天府餐饮管理有限公司", "深圳市小米粒文具有限公司"]
GREEK_NAMES = ["Γιώργος Παπαδόπουλος", "Μαρία Κωνσταντίνου", "Νίκος Αντωνίου", "Ελένη Γεωργίου"]


def random_negatives(corpus: list[tuple[str, Entity]], rng: random.Random, count: int) -> list[dict]:
    """Synthetic names, minus namesakes: a generated name all of whose tokens
    occur in one listed name ("William Johnson" ~ "WILLIAM MICHAEL JOHNSON")
    is a namesake that any screener must send to review, not a negative."""
    listed = {f.tokens for _, e in corpus for _, n in e.names() for f in analyze(n)}
    listed_sets = [frozenset(t) for t in listed]
    by_token: dict[str, list[frozenset]] = {}
    for tokens in listed_sets:
        for token in tokens:
            by_token.setdefault(token, []).append(tokens)

    def namesake(tokens: tuple[str, ...]) -> bool:
        wanted = frozenset(tokens)
        rarest = min(wanted, key=lambda t: len(by_token.get(t, ())))
        return any(wanted <= listed for listed in by_token.get(rarest, ()))

    out: list[dict] = []
    seen: set[str] = set()
    scripted = CYR_NAMES + ZH_NAMES + GREEK_NAMES
    attempts = 0
    while len(out) < count and attempts < count * 20:
        attempts += 1
        roll = rng.random()
        if roll < 0.5:
            words = [rng.choice(COMPANY_WORDS)]
            if rng.random() < 0.4:
                words.append(rng.choice(COMPANY_WORDS))
            words.append(rng.choice(INDUSTRY))
            name = " ".join(words + [rng.choice(SUFFIX)]).strip()
        elif roll < 0.95:
            name = f"{rng.choice(FIRST)} {rng.choice(LAST)}"
            if rng.random() < 0.3:
                name = f"{rng.choice(LAST).upper()}, {rng.choice(FIRST)}"
        else:
            name = rng.choice(scripted)
        if name in seen:
            continue
        forms = analyze(name)
        if not forms or any(namesake(f.tokens) for f in forms):
            continue
        seen.add(name)
        out.append(_case("random_negative", name, []))
    return out
