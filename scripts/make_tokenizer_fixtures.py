#!/usr/bin/env python3
"""Reference data for the Swift BERT tokenizer (Sources/MED/Tokenizer).

    python scripts/make_tokenizer_fixtures.py            # Tests/MEDTests/Fixtures/tokenizer_golden.json
    python scripts/make_tokenizer_fixtures.py --tables   # also Sources/MED/Tokenizer/UnicodeTables.swift

The reference is transformers' BertTokenizer, which in transformers 5 is backed by the Rust
`tokenizers` library (BertNormalizer, BertPreTokenizer, WordPiece model and decoder). Those
components use their own, partly older, Unicode tables, so the Swift side does not rely on
the Swift runtime's Unicode properties: `--tables` probes every code point through the Rust
components and writes the resulting character classes and mappings as Swift source.
"""

import argparse
import json
import os
import random
import re
import sys

import tokenizers
import transformers
from tokenizers import normalizers, pre_tokenizers
from transformers import BertTokenizer

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
VOCAB = os.path.join(ROOT, "Sources/MED/Resources/vocab.txt")
GOLDEN = os.path.join(ROOT, "Tests/MEDTests/Fixtures/tokenizer_golden.json")
TABLES = os.path.join(ROOT, "Sources/MED/Tokenizer/UnicodeTables.swift")


def load_blip_tokenizer():
    """BLIP's init_tokenizer (models/blip.py) on top of bert-base-uncased."""
    # transformers 5 takes the vocab path as `vocab=`; `vocab_file=` is ignored and leaves a
    # five-token vocabulary, so check the size before adding anything.
    tok = BertTokenizer(vocab=VOCAB)
    assert len(tok) == 30522, f"vocab not loaded: {len(tok)} entries"
    tok.add_special_tokens({"bos_token": "[DEC]"})
    tok.add_special_tokens({"additional_special_tokens": ["[ENC]"]})
    assert tok.convert_tokens_to_ids(["[DEC]", "[ENC]"]) == [30522, 30523]
    assert len(tok) == 30524
    return tok


def pre_caption(caption, max_words=50):
    """BLIP's data/utils.py pre_caption."""
    caption = re.sub(r"([.!\"()*#:;~])", " ", caption.lower())
    caption = re.sub(r"\s{2,}", " ", caption)
    caption = caption.rstrip("\n")
    caption = caption.strip(" ")
    words = caption.split(" ")
    if len(words) > max_words:
        caption = " ".join(words[:max_words])
    return caption


# ----------------------------------------------------------------------------------------------
# Unicode tables


def code_points():
    for cp in range(0x110000):
        if 0xD800 <= cp <= 0xDFFF:
            continue
        yield cp


def ranges(cps):
    out = []
    for cp in sorted(set(cps)):
        if out and out[-1][1] == cp - 1:
            out[-1][1] = cp
        else:
            out.append([cp, cp])
    return out


def hangul_nfd(cp):
    s = cp - 0xAC00
    lead, vowel, trail = 0x1100 + s // 588, 0x1161 + (s % 588) // 28, 0x11A7 + s % 28
    return [lead, vowel] + ([trail] if trail != 0x11A7 else [])


def probe_tables():
    clean = normalizers.BertNormalizer(
        clean_text=True, handle_chinese_chars=False, strip_accents=False, lowercase=False)
    chinese = normalizers.BertNormalizer(
        clean_text=False, handle_chinese_chars=True, strip_accents=False, lowercase=False)
    strip = normalizers.BertNormalizer(
        clean_text=False, handle_chinese_chars=False, strip_accents=True, lowercase=False)
    lower = normalizers.BertNormalizer(
        clean_text=False, handle_chinese_chars=False, strip_accents=False, lowercase=True)
    nfd = normalizers.NFD()
    pre = pre_tokenizers.BertPreTokenizer()

    t = {k: [] for k in ("control", "cleanSpace", "whitespace", "punctuation", "chinese",
                         "nonspacingMark")}
    decompositions, lowercase = {}, {}
    for cp in code_points():
        c = chr(cp)
        cleaned = clean.normalize_str(c)
        if cleaned == "":
            t["control"].append(cp)
        elif cleaned == " " and c != " ":
            t["cleanSpace"].append(cp)
        else:
            assert cleaned == c, hex(cp)
        if chinese.normalize_str(c) == f" {c} ":
            t["chinese"].append(cp)
        d = nfd.normalize_str(c)
        if d != c:
            if 0xAC00 <= cp <= 0xD7A3:
                assert [ord(x) for x in d] == hangul_nfd(cp), hex(cp)
            else:
                decompositions[cp] = [ord(x) for x in d]
        elif strip.normalize_str(c) == "":
            t["nonspacingMark"].append(cp)
        low = lower.normalize_str(c)
        if low != c:
            lowercase[cp] = [ord(x) for x in low]
        parts = [p for p, _ in pre.pre_tokenize_str("a" + c + "a")]
        if parts == ["a", "a"]:
            t["whitespace"].append(cp)
        elif parts == ["a", c, "a"]:
            t["punctuation"].append(cp)
        else:
            assert parts == ["a" + c + "a"], (hex(cp), parts)
    # A fully decomposed string never holds a decomposable scalar, so one level of the table
    # must already be the full decomposition for the Swift side's single lookup to be right.
    for cp, d in decompositions.items():
        assert all(x not in decompositions and not 0xAC00 <= x <= 0xD7A3 for x in d), hex(cp)
    return t, decompositions, lowercase


def swift_pairs(name, doc, rs):
    body = []
    line = "       "
    for lo, hi in rs:
        item = f" 0x{lo:X}, 0x{hi:X},"
        if len(line) + len(item) > 100:
            body.append(line)
            line = "       "
        line += item
    body.append(line)
    return f"    /// {doc}\n    static let {name}: [UInt32] = [\n" + "\n".join(body) + "\n    ]\n"


def swift_mapping(name, doc, mapping):
    entries = [f"{cp:X}:" + " ".join(f"{x:X}" for x in mapping[cp]) for cp in sorted(mapping)]
    lines, line = [], ""
    for e in entries:
        if line and len(line) + len(e) + 1 > 96:
            lines.append(line)
            line = ""
        line += e + ";"
    lines.append(line)
    body = "\n".join("        " + l for l in lines)
    return (f"    /// {doc}\n    /// Entries are `CP:MAPPED MAPPED;` in hexadecimal.\n"
            f"    static let {name}: String = \"\"\"\n{body}\n        \"\"\"\n")


def write_tables():
    t, decompositions, lowercase = probe_tables()
    src = [
        "// Generated by scripts/make_tokenizer_fixtures.py --tables from",
        f"// tokenizers {tokenizers.__version__} (transformers {transformers.__version__}). Do not edit by hand.",
        "//",
        "// The Rust BertNormalizer and BertPreTokenizer classify characters with Unicode tables",
        "// that are older than the Swift runtime's (unassigned code points are not controls,",
        "// some newer marks and punctuation are unknown), so parity needs their exact sets.",
        "",
        "enum BertUnicodeTables {",
        swift_pairs("control", "Dropped by clean_text: NUL, U+FFFD and the normalizer's is_control.",
                    ranges(t["control"] + [0, 0xFFFD])),
        swift_pairs("cleanSpace", "Replaced by a space in clean_text (its is_whitespace, minus the controls).",
                    ranges(t["cleanSpace"])),
        swift_pairs("whitespace", "Split points of BertPreTokenizer (Rust char::is_whitespace).",
                    ranges(t["whitespace"])),
        swift_pairs("punctuation", "Isolated by BertPreTokenizer (ASCII punctuation or Unicode P*).",
                    ranges(t["punctuation"])),
        swift_pairs("chinese", "Surrounded by spaces by handle_chinese_chars.", ranges(t["chinese"])),
        swift_pairs("nonspacingMark", "Dropped by strip_accents after NFD (category Mn).",
                    ranges(t["nonspacingMark"])),
        swift_mapping("decompositions",
                      "Full canonical decompositions (NFD), Hangul syllables excluded (algorithmic).",
                      decompositions),
        swift_mapping("lowercase", "Lowercase mappings that change the scalar (Rust char::to_lowercase).",
                      lowercase),
        "}",
        "",
    ]
    os.makedirs(os.path.dirname(TABLES), exist_ok=True)
    with open(TABLES, "w", encoding="utf-8") as f:
        f.write("\n".join(src))
    print(f"wrote {TABLES}: {len(decompositions)} decompositions, {len(lowercase)} lowercase")


# ----------------------------------------------------------------------------------------------
# Golden strings

HANDWRITTEN = [
    "",
    " ",
    "     ",
    "\t\n\r ",
    "a",
    "A",
    "a dog running on the beach",
    "A man riding a wave on top of a surfboard.",
    "Two cats sleeping on a couch!",
    "a woman holding an umbrella in the rain",
    "The QUICK Brown fox Jumps over THE lazy dog",
    "a picture of a kitchen with a stove, sink and refrigerator",
    "Isn't it a dog's life? I'm sure they've said we're fine, don't you?",
    "he said \"hello\" and left...",
    "rock 'n' roll",
    "' hello ' world '",
    "a . b ? c ! d , e",
    "end .",
    "what?!?!",
    "café naïve Ångström résumé façade jalapeño",
    "CAFÉ NAÏVE ÅNGSTRÖM",
    "Crème brûlée à la carte, piñata, über, São Paulo, Zürich, Ørsted, Łódź",
    "e\u0301 vs \u00e9 vs E\u0301",
    "\u1e9b\u0323 \u212b \u2126 \ufb01",
    "İstanbul ıstanbul ΟΔΟΣ Σίσυφος ß ẞ ǅ ǈ",
    "Ǆemal ǇUBLJANA ǊEGOŠ",
    "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~",
    "¡¿ «quoted» „German“ ‚single‘ “curly” ‘apostrophe’ — – ‐ … · • ¶ § † ‡ ※",
    "$100 €50 £20 ¥1000 ₹500 ₿ 50% 3½ ¼ ¾ ² ³ ° ± × ÷",
    "∑ ∫ √ ∞ ≈ ≠ ≤ ≥ ∂ ∇ ∈ ∉ ⊂ ⊃ ∧ ∨ ¬ → ← ↑ ↓ ⇒ ⇔",
    "emoji 😀😃😄 🐶🐱 🍕 ❤️ 👍🏽 👨‍👩‍👧‍👦 🇫🇷 🏳️‍🌈",
    "a🐶b😀c",
    "我爱北京天安门",
    "一只狗在海滩上奔跑。",
    "中文English混合text",
    "これは日本語の文です。カタカナもあります。ｶﾀｶﾅ",
    "ひらがな カタカナ 漢字",
    "한국어 문장입니다. 안녕하세요!",
    "한",
    "مرحبا بالعالم",
    "العربية: قطة على الأريكة",
    "שלום עולם",
    "Привет, мир! Ёлка и йогурт.",
    "СОБАКА бежит по ПЛЯЖУ",
    "Ελληνικά: καλημέρα κόσμε",
    "हिन्दी में वाक्य",
    "ภาษาไทย สวัสดี",
    "Tiếng Việt có dấu: Hà Nội, Đà Nẵng",
    "ქართული Հայերեն አማርኛ",
    "a" * 100,
    "a" * 101,
    "b" * 250,
    "supercalifragilisticexpialidocious " * 3,
    "pneumonoultramicroscopicsilicovolcanoconiosis",
    "x" * 99 + "é",
    "é" * 101,
    "zzzzqqqqxxxx",
    "qxzvjkqwpfgh",
    "ꙮꙮꙮ ᚠᚢᚦ 𓀀𓀁",
    "\u0000hello\u0000world\u0000",
    "hello\x01\x02\x03\x04\x05\x06\x07\x08world",
    "a\x0bb a\x0cb a\x0eb a\x1bb a\x1cb a\x1db a\x1eb a\x1fb a\x7fb",
    "a\x80b a\x85b a\x9fb a\xa0b a\xadb",
    "tab\tseparated\tvalues",
    "line one\nline two\r\nline three\rfour",
    "\n\n\nleading and trailing newlines\n\n",
    "zero\u200bwidth\u200cjoin\u200dner\u2060word\ufeffbom",
    "\ufffdreplacement\ufffd character",
    "a\u2028b\u2029c\u3000d\u2003e\u202ff\u205fg\u1680h\u180ei",
    "soft\u00adhyphen and\u200e\u200fmarks\u202a\u202e",
    "private \ue000\uf8ff \U000f0000 use",
    "nonchar \ufffe\uffff \U0010ffff",
    "unassigned \u0378 \u0888 \U000e0080 \U0003134f",
    "tags \U000e0041\U000e0042 variation \ufe0f\ufe0e",
    "0 1 2 3 42 3.14159 1,000,000 -17 +8 1e10 0x1F 2024-01-31 12:30:45",
    "ⅰⅱⅲ ① ② ٠١٢٣ ०१२ 〇",
    "https://www.example.com/path/to/page?query=1&x=y#frag",
    "http://example.org/images/IMG_2031.JPG",
    "user@example.com mailto:someone@example.org",
    "www.flickr.com/photos/12345678@N00/987654321",
    "<img src=\"photo.jpg\" alt=\"A cat\">",
    "<p>Some <b>bold</b> text &amp; more &lt;tags&gt;</p>",
    "&nbsp;&quot;escaped&quot;&#39;",
    "IMG_2031.JPG",
    "DSC00042.jpeg",
    "Screen Shot 2019-05-12 at 10.31.22 AM.png",
    "click here",
    "Click here to download",
    "image may contain: 2 people, people smiling, outdoor",
    "stock photo - beautiful sunset over the ocean",
    "Photo by John Doe on Unsplash",
    "[CLS]",
    "[SEP]",
    "[PAD] [UNK] [MASK]",
    "[DEC] a picture of [ENC]",
    "a[SEP]b",
    "x[DEC]y[ENC]z",
    "[cls] [sep] [dec] [enc] [Sep] [ SEP ]",
    "[SEP[SEP]]",
    "[[CLS]]",
    "[unused0] [unused1]",
    "[SEP]\u0301x a\u0301[SEP] Hello[SEP]World [SEP][SEP]",
    "[MASK]ed [PAD]ding [UNK]nown",
    "a " * 600,
    "##ing ##s",
    "##",
    "#hashtag #photo #nofilter",
    "@user mentioned @another_user",
    "snake_case_name camelCaseName kebab-case-name",
    "C++ C# F# .NET node.js",
    "e.g. i.e. etc. Mr. Mrs. Dr. U.S.A.",
    "...",
    "!!!",
    "???",
    "---",
    "___",
    "~~~",
    "a.b.c.d",
    "don't won't can't shouldn't",
    "I'm you're they've we'll she'd",
    "o'clock O'Neil",
    "MiXeD CaSe WoRdS",
    "ALL CAPS SHOUTING HEADLINE",
    "ﬁnancial ﬂower ﬀ",
    "ＦＵＬＬＷＩＤＴＨ ｌｅｔｔｅｒｓ １２３",
    "𝐁𝐨𝐥𝐝 𝑰𝒕𝒂𝒍𝒊𝒄 𝔉𝔯𝔞𝔨𝔱𝔲𝔯",
    "Ⓐ Ⓑ ⓒ",
    "a" + "\u0301" * 10 + "b",
    "\u0301\u0302\u0303",
    "q\u0307\u0323 d\u0323\u0307",
    "ṩ ḍ̇ ệ",
    "한국 한글 ㄱㄴㄷ ᄀᄁ",
    "𠀀𠀁 𪜀 𫝀 𫠠 𬺰 𰀀 丽",
    "\u2e80\u2f00\u3005\u3007\u3021",
    "ｱｲｳ ﾊﾟﾋﾟﾌﾟ",
    "ʻokina ʼapostrophe ˈstress",
    "Ꭰ Ꮳ ꭰ",
    "ǅ ǲ ῼ",
    "¨ ´ ¸ ˘ ˙ ˚ ˛ ˜ ˝",
    "ä ö ü Ä Ö Ü",
    "ﬃ ﬄ ſt",
    "Ωmega Kelvin K Å",
    "a  b   c    d",
    "   leading spaces",
    "trailing spaces   ",
    "a:b;c~d*e#f(g)h!i.j\"k",
    "hello. world! (test) *star* #tag: a; b~c \"quote\"",
    "..!!::;;~~**##((",
    "word " * 60,
    " ".join(str(i) for i in range(80)),
    "a\u00a0b",
    "a\u0085b",
    "a\n\tb",
    "x\n",
    "x \n",
    "x\n \n",
    " \nx",
    "A Very Long Caption That Goes On And On " * 8,
]


def word_list(tok):
    words = [w for w in tok.vocab if w.isascii() and w.isalpha() and not w.startswith("##")]
    return sorted(words)


def random_cases(tok, rng, count):
    words = word_list(tok)
    pools = {
        "ascii_punct": list("!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~"),
        "digits": list("0123456789"),
        "space": list(" \t\n\r\u00a0\u2002\u3000\u2028\u0085\x0b\x0c"),
        "latin_acc": list("áàâäãåāăąçćčďèéêëēėęěğíìîïīįıłñńňóòôöõøōőœřśšşťúùûüūůűųýÿžźżÆÐÞßÉÖÜ"),
        "combining": [chr(c) for c in list(range(0x300, 0x370)) + [0x1AB0, 0x1DC0, 0x20D0, 0x20E3, 0xFE20]],
        "greek": [chr(c) for c in range(0x391, 0x3CF) if chr(c).isalpha()],
        "cyrillic": [chr(c) for c in range(0x400, 0x460)],
        "arabic": [chr(c) for c in range(0x600, 0x6FF)],
        "hebrew": [chr(c) for c in range(0x591, 0x5F4)],
        "indic": [chr(c) for c in range(0x900, 0x980)] + [chr(c) for c in range(0xB80, 0xBFF)],
        "thai": [chr(c) for c in range(0xE01, 0xE5B)],
        "cjk": [chr(c) for c in range(0x4E00, 0x4E00 + 400)] + [chr(c) for c in range(0x3400, 0x3440)]
        + [chr(c) for c in range(0x20000, 0x20040)] + [chr(c) for c in range(0xF900, 0xF940)],
        "kana": [chr(c) for c in range(0x3041, 0x3100)] + [chr(c) for c in range(0xFF61, 0xFF9F)],
        "hangul": [chr(c) for c in range(0xAC00, 0xAC00 + 300)] + [chr(c) for c in range(0x1100, 0x1200)],
        "emoji": [chr(c) for c in range(0x1F300, 0x1F650)] + ["\u200d", "\ufe0f", "\U0001F3FD", "\U0001FAE0"],
        "symbols": [chr(c) for c in range(0x2000, 0x2BFF)],
        "controls": [chr(c) for c in list(range(0, 32)) + list(range(0x7F, 0xA0))]
        + ["\u200b", "\u200c", "\u200d", "\u2060", "\ufeff", "\ufffd", "\u00ad", "\u061c", "\U000e0001"],
        "specials": ["[CLS]", "[SEP]", "[PAD]", "[UNK]", "[MASK]", "[DEC]", "[ENC]", "[", "]", "##"],
        "fullwidth": [chr(c) for c in range(0xFF01, 0xFF5F)],
        "math_alnum": [chr(c) for c in range(0x1D400, 0x1D500)],
    }
    names = sorted(pools)
    out = []

    def piece(pool):
        return rng.choice(pools[pool])

    def any_scalar():
        while True:
            cp = rng.randrange(0x110000)
            if not 0xD800 <= cp <= 0xDFFF:
                return chr(cp)

    for i in range(count):
        kind = i % 4
        parts = []
        if kind == 0:
            # caption-like: mostly words with some decoration
            for _ in range(rng.randint(1, 18)):
                w = rng.choice(words)
                r = rng.random()
                if r < 0.2:
                    w = w.capitalize()
                elif r < 0.25:
                    w = w.upper()
                parts.append(w)
                if rng.random() < 0.15:
                    parts.append(piece("ascii_punct"))
                if rng.random() < 0.05:
                    parts.append(piece(rng.choice(names)))
            s = " ".join(parts)
        elif kind == 1:
            # script soup: runs from a few pools
            for _ in range(rng.randint(1, 8)):
                pool = rng.choice(names)
                parts.append("".join(piece(pool) for _ in range(rng.randint(1, 6))))
                parts.append(rng.choice([" ", "", "", piece("space")]))
            s = "".join(parts)
        elif kind == 2:
            # arbitrary scalars from the whole code space, plane-weighted
            n = rng.randint(1, 24)
            chars = []
            for _ in range(n):
                r = rng.random()
                if r < 0.4:
                    chars.append(any_scalar())
                elif r < 0.7:
                    chars.append(chr(rng.randrange(0x80, 0x3000)))
                elif r < 0.85:
                    chars.append(chr(rng.randrange(0x20, 0x7F)))
                else:
                    chars.append(piece(rng.choice(names)))
            s = "".join(chars)
        else:
            # words glued with accents, marks, punctuation and specials
            for _ in range(rng.randint(1, 10)):
                w = rng.choice(words)
                if rng.random() < 0.3:
                    k = rng.randrange(len(w) + 1)
                    w = w[:k] + piece(rng.choice(["combining", "latin_acc", "specials", "ascii_punct"])) + w[k:]
                parts.append(w)
            s = rng.choice([" ", "", "-", "\t"]).join(parts)
        out.append(s)
    return out


def vocab_fringe_cases(tok, rng, count):
    """Single vocabulary entries, including ones only reachable as continuations."""
    entries = sorted(w for w in tok.vocab if not w.startswith("["))
    picks = rng.sample(entries, count)
    return [p[2:] if p.startswith("##") else p for p in picks]


def make_golden():
    tok = load_blip_tokenizer()
    rng = random.Random(20240531)
    texts = list(HANDWRITTEN)
    texts += vocab_fringe_cases(tok, rng, 40)
    texts += random_cases(tok, rng, 320)
    seen, unique = set(), []
    for t in texts:
        if t not in seen:
            seen.add(t)
            unique.append(t)

    cases = []
    for text in unique:
        ids = tok(text)["input_ids"]
        tokens = tok.tokenize(text)
        assert tok.convert_ids_to_tokens(ids)[1:-1] == tokens, text
        cases.append({
            "text": text,
            "ids": ids,
            "tokens": tokens,
            "decoded": tok.decode(ids, skip_special_tokens=True),
            "decoded_with_special": tok.decode(ids, skip_special_tokens=False),
            "pre_caption": pre_caption(text),
            "pre_caption_5": pre_caption(text, max_words=5),
        })

    truncation = []
    trunc_texts = [
        "the quick brown fox jumps over the lazy dog",
        "a dog running on the beach",
        "",
        "supercalifragilisticexpialidocious is a long word",
        "[DEC] a picture of a cat [SEP] sitting",
        "一只狗在海滩上奔跑。",
    ] + [c["text"] for c in cases[::40]]
    for text in trunc_texts:
        for n in (0, 1, 2, 3, 8, 512):
            for special in (True, False):
                ids = tok(text, truncation=True, max_length=n, add_special_tokens=special)["input_ids"]
                truncation.append({"text": text, "max_length": n, "add_special_tokens": special,
                                   "ids": ids})

    decode = []
    id_lists = [
        [], [101, 102], [100], [0, 0, 0], [30522, 2023, 30523],
        [2023, 2003, 1037, 3231, 1012], [1012, 2023, 1012, 1029, 999, 1010],
        [1005, 1055, 1005, 2213, 1005, 1056, 1005, 2310, 1005, 2128, 2025, 1050],
        [2079, 2025], [6207, 2015, 2003], [2015, 2023], [1001, 1001, 2213],
        [29379, 99999, 2023, -1 + 30524, 30524, 40000],
        [1, 2, 998, 999, 1000, 1001, 1996],
        [7592, 1010, 2088, 999, 1045, 1005, 1049, 2182, 1012],
    ]
    for _ in range(40):
        n = rng.randint(0, 20)
        id_lists.append([rng.randrange(0, 30524) for _ in range(n)])
    for ids in id_lists:
        for skip in (True, False):
            decode.append({"ids": ids, "skip_special_tokens": skip,
                           "text": tok.decode(ids, skip_special_tokens=skip)})

    golden = {
        "transformers": transformers.__version__,
        "tokenizers": tokenizers.__version__,
        "vocab_size": len(tok),
        "cases": cases,
        "truncation": truncation,
        "decode": decode,
    }
    os.makedirs(os.path.dirname(GOLDEN), exist_ok=True)
    with open(GOLDEN, "w", encoding="utf-8") as f:
        json.dump(golden, f, ensure_ascii=False, separators=(",", ":"))
        f.write("\n")
    size = os.path.getsize(GOLDEN)
    print(f"wrote {GOLDEN}: {len(cases)} cases, {len(truncation)} truncation, "
          f"{len(decode)} decode, {size // 1024} KiB")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tables", action="store_true", help="also regenerate UnicodeTables.swift")
    args = parser.parse_args()
    if args.tables:
        write_tables()
    make_golden()


if __name__ == "__main__":
    sys.exit(main())
