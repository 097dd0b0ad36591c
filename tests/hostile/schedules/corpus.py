"""The hostile schedule files: name -> (the file's bytes, a part of the error it must get).

Each file is small and each is refused: by the size of what it would build, by its encoding,
by a YAML or JSON feature a schedule never needs, or by a value no column can hold.
The files beside this script are written by it (`python tests/hostile/schedules/corpus.py`) and
committed; tests/test_hostile_files.py checks that they still match it.
"""

import codecs
from pathlib import Path

HERE = Path(__file__).resolve().parent

GOOD = """timezone: UTC
queues:
  - {id: "q1", name: Support}
agents:
  - {id: "a1", name: Ann}
shifts:
  - {name: Mornings, queues: ["q1"], agents: ["a1"], days: [mon], start: "08:00", end: "12:00"}
"""
GOOD_JSON = (
    '{"timezone": "UTC", "queues": [{"id": "q1", "name": "Support"}], "agents": [{"id": "a1", "name": "Ann"}],\n'
    ' "shifts": [{"name": "Mornings", "queues": ["q1"], "agents": ["a1"], "days": ["mon"],'
    ' "start": "08:00", "end": "12:00"}]}\n'
)


def _good(old: str, new: str) -> bytes:
    assert old in GOOD, old
    return GOOD.replace(old, new, 1).encode()


def _good_json(old: str, new: str) -> bytes:
    assert old in GOOD_JSON, old
    return GOOD_JSON.replace(old, new, 1).encode()


def _alias_bomb(use: str = "shifts: *i") -> bytes:
    """The billion laughs: nine levels of nine aliases, a billion strings from a few hundred bytes."""
    lines = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for prev, name in zip("abcdefgh", "bcdefghi", strict=True):
        lines.append(f"{name}: &{name} [{','.join(['*' + prev] * 9)}]")
    return ("\n".join(lines) + f"\n{use}\n").encode()


def _nested(opening: str, closing: str, depth: int, inside: str = "") -> str:
    return opening * depth + inside + closing * depth


def _block_nested(depth: int) -> str:
    return "".join(f"{'  ' * level}k{level}:\n" for level in range(depth)) + "  " * depth + "x\n"


HOSTILE: dict[str, tuple[bytes, str]] = {
    # YAML's references and tags
    "alias_bomb.yaml": (_alias_bomb(), "anchors and aliases"),
    # quoted in full by the old message "<value> is not text": 2.2 GB, then MemoryError
    "alias_bomb_in_a_value.yaml": (_alias_bomb("queues:\n  - {id: q1, name: *i}"), "anchors and aliases"),
    "alias_reused_list.yaml": (
        _good('agents: ["a1"]', 'agents: &team ["a1"]')
        + b"  - {name: B, queues: [q1], agents: *team, days: [tue], start: '08:00', end: '12:00'}\n",
        "anchors and aliases",
    ),
    "anchor_only.yaml": (_good("timezone: UTC", "timezone: &zone UTC"), "anchors and aliases"),
    "merge_key.yaml": (
        _good("queues:", "base: &base {start: '08:00'}\nqueues:")
        + b"  - {<<: *base, name: B, queues: [q1], agents: [a1], days: [tue], end: '12:00'}\n",
        "anchors and aliases",
    ),
    "python_object_apply.yaml": (b"shifts: !!python/object/apply:os.system ['touch /tmp/pwned']\n", "YAML tags"),
    "python_name.yaml": (b"shifts:\n  - !!python/name:os.system\n", "YAML tags"),
    "python_module.yaml": (b"timezone: !!python/module:os\n", "YAML tags"),
    "binary_tag.yaml": (_good("name: Ann", "name: !!binary aGVsbG8="), "YAML tags"),
    "float_nan_tag.yaml": (_good("name: Support", "name: Support, min_staff: !!float .nan"), "YAML tags"),
    "custom_tag.yaml": (_good("timezone: UTC", "timezone: !zone UTC"), "YAML tags"),
    "set_tag.yaml": (b"queues: !!set {a, b}\n", "YAML tags"),
    # nesting and size
    "deep_flow_sequence.yaml": (_nested("[", "]", 5_000).encode(), "line 1, column"),
    "deep_flow_mapping.yaml": (("{a: " * 2_000 + "1" + "}" * 2_000).encode(), "line 1, column"),
    "deep_block_mapping.yaml": (_block_nested(50).encode(), "nested deeper than"),
    "deep_block_sequence.yaml": ("".join(f"{'  ' * i}- \n" for i in range(50)).encode(), "nested deeper than"),
    "too_many_entries.yaml": (("shifts:\n" + "- {}\n" * 5_001).encode(), "shifts: has 5,001 entries"),
    "too_many_ids.yaml": (_good('agents: ["a1"]', f"agents: [{','.join(['a1'] * 1_001)}]"), "has 1,001 items"),
    # encodings and characters
    "latin1.yaml": (
        _good("name: Ann", "name: Ren\u00e9e").replace("\u00e9".encode(), b"\xe9"),
        "line 5: byte 0xe9 is not UTF-8",
    ),
    "utf16_bom.yaml": (codecs.BOM_UTF16_LE + GOOD.encode("utf-16-le"), "UTF-16 or UTF-32"),
    "utf16_be_bom.yaml": (codecs.BOM_UTF16_BE + GOOD.encode("utf-16-be"), "UTF-16 or UTF-32"),
    "utf32_bom.yaml": (codecs.BOM_UTF32_LE + GOOD.encode("utf-32-le"), "UTF-16 or UTF-32"),
    "utf32_be_no_bom.yaml": (GOOD.encode("utf-32-be"), "control character U+0000"),
    "png_image.yaml": (
        b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00",
        "byte 0x89 is not UTF-8",
    ),
    "zip_archive.yaml": (b"PK\x03\x04\x14\x00\x00\x00\x08\x00" + bytes(range(20)), "control character"),
    "raw_nul.yaml": (_good("name: Ann", "name: An\x00n"), "line 5: the control character U+0000"),
    "raw_escape_sequence.yaml": (_good("name: Ann", "name: \x1b[31mAnn\x1b[0m"), "control character U+001B"),
    "escaped_nul.yaml": (_good("name: Ann", 'name: "An\\0n"'), "agents[0].name:"),
    "escaped_bell.yaml": (_good("name: Support", 'name: "Sup\\aport"'), "queues[0].name:"),
    "lone_surrogate.yaml": (_good("name: Mornings", 'name: "Morn\\ud800ings"'), "not valid YAML: line 7"),
    "noncharacter.yaml": (_good("name: Ann", "name: Ann\uffff"), "not valid YAML"),
    # numbers, dates and long values
    "huge_integer.yaml": (
        _good("name: Support", "name: Support, min_staff: " + "9" * 5_000),
        "a number of 5,000 digits",
    ),
    "huge_unquoted_id.yaml": (_good('id: "a1"', "id: " + "1" * 40), "a number of 40 digits"),
    "huge_exponent.yaml": (_good("name: Support", "name: Support, min_staff: 1e99999"), "queues[0].min_staff:"),
    "negative_count.yaml": (
        _good("name: Support", "name: Support, min_staff: -99999999999999999"),
        "queues[0].min_staff:",
    ),
    "impossible_date.yaml": (_good('end: "12:00"', 'end: "12:00", valid_from: 2026-13-45'), "is not a date"),
    "year_9999.yaml": (
        _good('end: "12:00"', 'end: "12:00", valid_until: 9999-12-31'),
        "shifts[0].valid_until: '9999-12-31' is outside",
    ),
    "year_1.yaml": (_good('end: "12:00"', 'end: "12:00", valid_from: 0001-01-01'), "is outside"),
    "time_off_at_the_end_of_time.yaml": (
        GOOD.encode()
        + b"time_off:\n  - {agent: a1, start: 9999-12-31T23:00:00-12:00, end: 9999-12-31T23:59:00-12:00}\n",
        "time_off[0].start",
    ),
    "offset_out_of_range.yaml": (
        GOOD.encode() + b"time_off:\n  - {agent: a1, start: 2026-01-01 10:00:00 +99:00, end: 2026-01-02}\n",
        "is not a date",
    ),
    "long_timezone.yaml": (_good("timezone: UTC", "timezone: Europe/" + "K" * 1_000), "timezone:"),
    "long_name.yaml": (_good("name: Ann", "name: " + "A" * 2_000), "agents[0].name: is 2,000 characters long"),
    "long_unknown_key.yaml": (_good("name: Ann", "name: Ann, " + "k" * 900 + ": 1"), "agents[0].'kkkk"),
    # structure
    "duplicate_section.yaml": (GOOD.encode() + b"shifts: []\n", "the key 'shifts' appears twice"),
    "duplicate_key_in_entry.yaml": (_good("name: Ann", "name: Ann, name: Bob"), "the key 'name' appears twice"),
    "unhashable_key.yaml": (b"? [a, b]\n: c\n", "a key must be a name"),
    "two_documents.yaml": (GOOD.encode() + b"---\n" + GOOD.encode(), "not valid YAML"),
    "top_level_list.yaml": (b"- 1\n- 2\n", "file: must be a mapping"),
    "long_scalar_document.yaml": (b"x" * 5_000 + b"\n", "file: must be a mapping"),
    "html_page.yaml": (
        b"<!DOCTYPE html>\n<html><head><title>Schedule</title></head>\n<body><p>Shifts: none</p></body></html>\n",
        "not valid YAML",
    ),
    "tab_indentation.yaml": (b"queues:\n\t- {id: q1, name: Support}\n", "not valid YAML"),
    "unknown_yaml_version.yaml": (b"%YAML 9.9\n---\n" + GOOD.encode(), "not valid YAML"),
    # the same hostilities in JSON (chosen by the .json name)
    "deep_nesting.json": (_nested("[", "]", 5_000).encode(), "nested deeper than"),
    "moderate_nesting.json": (_nested('{"a": ', "}", 50, inside="1").encode(), "nested deeper than"),
    "nan.json": (_good_json('"name": "Support"', '"name": "Support", "min_staff": NaN'), "NaN is not a number"),
    "infinity.json": (
        _good_json('"name": "Support"', '"name": "Support", "min_staff": Infinity'),
        "Infinity is not a number",
    ),
    "negative_infinity.json": (
        _good_json('"name": "Support"', '"name": "Support", "min_staff": -Infinity'),
        "-Infinity is not a number",
    ),
    "huge_integer.json": (
        _good_json('"name": "Support"', '"name": "Support", "min_staff": ' + "9" * 5_000),
        "a number of 5,000 digits",
    ),
    "huge_float.json": (
        _good_json('"name": "Support"', '"name": "Support", "min_staff": 1' + "0" * 400 + ".5"),
        "a number of 402 digits",
    ),
    "escaped_nul.json": (_good_json('"name": "Ann"', '"name": "An\\u0000n"'), "agents[0].name:"),
    "lone_surrogate.json": (_good_json('"name": "Ann"', '"name": "An\\ud800n"'), "agents[0].name:"),
    "duplicate_keys.json": (
        _good_json('"timezone": "UTC"', '"timezone": "UTC", "timezone": "Europe/Kyiv"'),
        "the key 'timezone' appears twice",
    ),
    "latin1.json": (
        _good_json('"name": "Ann"', '"name": "Ren\u00e9e"').replace("\u00e9".encode(), b"\xe9"),
        "byte 0xe9 is not UTF-8",
    ),
    "utf16.json": (codecs.BOM_UTF16_LE + GOOD_JSON.encode("utf-16-le"), "UTF-16 or UTF-32"),
    "top_level_array.json": (b"[1, 2, 3]\n", "file: must be a mapping"),
    "trailing_garbage.json": (GOOD_JSON.encode() + b"{}", "not valid JSON: line 3"),
    "yaml_in_json.json": (GOOD.encode(), "not valid JSON: line 1"),
    "long_unknown_key.json": (
        _good_json('"name": "Ann"', '"name": "Ann", "' + "k" * 2_000 + '": 1'),
        "agents[0].'kkkk",
    ),
}


def write() -> None:
    for name, (data, _) in HOSTILE.items():
        (HERE / name).write_bytes(data)


if __name__ == "__main__":
    write()
