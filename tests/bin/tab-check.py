#!/usr/bin/env python3
"""Check a table read back by an independent reader against its JSON input.

    tab-check.py INPUT.jsonl DUMP [--csv]

DUMP is duckdb-dump.js's output (--csv: a CSV file read with python's csv
module, every field text).  Every value of every row is compared with the
record it came from: integers and decimals exactly (Decimal, at the
column's scale), strings as decoded, booleans, nested values as JSON
values, timestamps as microseconds since the epoch, absent and null as
null.  Prints one line a difference and "rows N" at the end; exits 1 on
any difference.
"""
import csv
import datetime
import decimal
import json
import re
import sys

decimal.getcontext().prec = 200


def exact(text):
    return decimal.Decimal(text)


def micros(s):
    m = re.fullmatch(r'(\d{4})-(\d\d)-(\d\d)[Tt ](\d\d):(\d\d):(\d\d)(\.\d+)?([Zz]|[+-]\d\d:\d\d)', s)
    if not m:
        return None
    y, mo, d, h, mi, se = (int(m.group(i)) for i in range(1, 7))
    frac = m.group(7) or ''
    tz = m.group(8)
    off = 0 if tz in ('Z', 'z') else (1 if tz[0] == '+' else -1) * (int(tz[1:3]) * 60 + int(tz[4:6]))
    days = (datetime.date(y, mo, d) - datetime.date(1970, 1, 1)).days
    us = ((days * 24 + h) * 60 + mi) * 60 + se - off * 60
    f = decimal.Decimal('0' + frac) if frac else decimal.Decimal(0)
    return us * 1000000 + int(f * 1000000)


def expect(kind, scale, v):
    """The text the reader should give for JSON value v in a column of kind."""
    if v is None:
        return None
    if kind == 'integer':
        return str(int(v))
    if kind == 'decimal':
        q = decimal.Decimal(1).scaleb(-scale)
        return str(exact(v).quantize(q)) if scale else str(int(exact(v)))
    if kind == 'boolean':
        return 'true' if v else 'false'
    if kind == 'timestamp':
        return str(micros(v))
    if kind == 'json':
        return v
    return v if isinstance(v, str) else json.dumps(v)


def same(kind, want, got, raw):
    if want is None or got is None:
        return want is None and got is None
    if kind == 'json':
        return json.loads(got, parse_float=exact, parse_int=exact) == raw
    if kind == 'decimal' and got is not None:
        return exact(got) == exact(want)
    return want == got


def kind_of(t):
    t = t.upper()
    if t.startswith('DECIMAL'):
        m = re.match(r'DECIMAL\((\d+),(\d+)\)', t)
        return 'decimal', int(m.group(2))
    return {'BIGINT': 'integer', 'VARCHAR': 'text', 'BOOLEAN': 'boolean', 'JSON': 'json'}.get(
        t, 'timestamp' if t.startswith('TIMESTAMP') else t), 0


def main():
    records = [json.loads(l, parse_float=exact, parse_int=exact) for l in open(sys.argv[1], encoding='utf-8') if l.strip()]
    if len(sys.argv) > 3 and sys.argv[3] == '--csv':
        with open(sys.argv[2], newline='', encoding='utf-8') as f:
            rows = list(csv.reader(f))
        names = rows[0]
        rows = [[c if c != '' else None for c in r] for r in rows[1:]]
        # CSV carries no types: the kinds come from the records themselves
        kinds = []
        for n in names:
            vals = [r.get(n) for r in records if r.get(n) is not None]
            if vals and all(isinstance(v, bool) for v in vals):
                kinds.append(('boolean', 0))
            elif vals and all(isinstance(v, decimal.Decimal) for v in vals):
                kinds.append(('csvnumber', 0))
            elif vals and all(isinstance(v, str) and micros(v) is not None for v in vals):
                kinds.append(('timestamp', 0))
            elif vals and all(isinstance(v, str) for v in vals):
                kinds.append(('text', 0))
            else:
                kinds.append(('json', 0))
    else:
        lines = open(sys.argv[2], encoding='utf-8').read().splitlines()
        head = json.loads(lines[0])
        names = [c[0] for c in head['columns']]
        kinds = [kind_of(c[1]) for c in head['columns']]
        rows = [json.loads(l) for l in lines[1:]]
    bad = 0
    if len(rows) != len(records):
        print('rows: %d read back, %d records' % (len(rows), len(records)))
        bad += 1
    for i, (rec, row) in enumerate(zip(records, rows)):
        for j, n in enumerate(names):
            kind, scale = kinds[j]
            raw = rec.get(n)
            got = row[j]
            if kind == 'csvnumber':
                ok = (raw is None and got is None) or (got is not None and exact(got) == raw)
            elif kind == 'timestamp' and got is not None and not got.lstrip('-').isdigit():
                ok = raw is not None and micros(got) == micros(raw)
            else:
                ok = same(kind, expect(kind, scale, raw), got, raw)
            if not ok:
                print('row %d column %s (%s): read %r, record has %r' % (i + 1, n, kind, got, raw))
                bad += 1
    print('rows %d' % len(rows))
    sys.exit(1 if bad else 0)


main()
