#!/usr/bin/env python3
"""Extracts the header vectors of the spec digest's test-vectors.md (sections 1-3) into
header-vectors.json: each base64 header value with its label, the decoded JSON text as shown
in the digest, and whether that text is valid JSON (checked here with Python's json module,
independently of the Swift code under test).

Usage: python3 Tests/X402Tests/Fixtures/extract_vectors.py ../shared/spec/test-vectors.md
"""
import base64, json, re, sys, pathlib

src = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else "../shared/spec/test-vectors.md").read_text()
sections = src.split("\n## 4.")[0]
pattern = re.compile(r"\*\*([A-Za-z-]+)\*\* \((\d+) chars\):\s*```\n(\S+)\n```\s*decodes to:\s*```json\n(.*?)\n```", re.S)
out = []
section = ""
for block in re.split(r"\n(?=### )", sections):
    m = re.match(r"### ([0-9.]+)", block)
    if m:
        section = m.group(1)
    for name, length, b64, decoded in pattern.findall(block):
        assert len(b64) == int(length), (name, len(b64), length)
        raw = base64.b64decode(b64, validate=True)
        assert raw.decode("utf-8") == decoded, name
        try:
            json.loads(decoded)
            valid = True
        except ValueError:
            valid = False
        compact = valid and json.dumps(json.loads(decoded), separators=(",", ":"), ensure_ascii=False) == decoded
        out.append({"section": section, "header": name, "base64": b64, "json": decoded,
                    "validJSON": valid, "compact": compact})
path = pathlib.Path(__file__).with_name("header-vectors.json")
path.write_text(json.dumps(out, indent=1) + "\n")
print(f"wrote {len(out)} vectors to {path}")
