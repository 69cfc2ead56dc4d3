"""Judge the runs of a cap sweep (tests/t0735-output-caps.t).

jsonl-verdict.py DIR: DIR holds one directory per run, NAME.N (run under
--max-line N) and NAME.full (uncapped), each with rc, out, err and whatever
files the program wrote.  Prints one line a run:

  ok NAME.N          exit 0, every file valid, the output equal to NAME.full's
  fail NAME.N MSG    non-zero exit, every file valid, stderr says why (MSG)
  bad NAME.N WHY     anything else: a broken line, a silent failure, or an
                     exit 0 whose output differs from the uncapped run's

Files are judged with Python's JSON parser: each non-empty file is JSON
Lines (every line a JSON value, the last ending in a newline) or one JSON
document.  Binary files (gzip segments, SQLite databases, lock files) are
skipped; the test decodes what it compares."""
import json
import os
import sys

SKIP_SUFFIX = (".gz", ".sqlite", ".lock", "-journal", "-wal", "-shm")
SKIP_NAME = {"rc", "err", "table"}
# members whose values change from run to run (clock, timing, names with times)
VOLATILE = {"fetched_at", "elapsed_ms", "date", "elapsed", "seconds", "started_at",
            "finished_at", "segment", "written_at", "at", "time",
            # a state line counts the bytes before it, and the envelopes there
            # carry elapsed_ms, whose width varies from run to run
            "output_bytes"}


def reject_constant(name):
    raise ValueError("not JSON: " + name)


def parse(text):
    # the in-band state line: RS, then JSON (see paginate(1), --state)
    if text.startswith("\x1e"):
        text = text[1:]
    return json.loads(text, parse_constant=reject_constant)


def judge_file(path):
    """None when the file is valid JSON Lines or one JSON document, else why not."""
    with open(path, "rb") as f:
        data = f.read()
    if not data:
        return None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        return "%s: not UTF-8 (%s)" % (path, e)
    lines_ok = text.endswith("\n")
    if lines_ok:
        for i, line in enumerate(text[:-1].split("\n")):
            try:
                parse(line)
            except ValueError:
                lines_ok = False
                bad_line = (i + 1, line[-80:])
                break
    if lines_ok:
        return None
    try:
        parse(text)
        return None
    except ValueError:
        pass
    if not text.endswith("\n"):
        return "%s: the last line has no newline: %r" % (path, text[-80:])
    return "%s: line %d is not JSON: ...%r" % ((path,) + bad_line)


def strip(v):
    if isinstance(v, dict):
        return {k: strip(x) for k, x in v.items() if k not in VOLATILE}
    if isinstance(v, list):
        return [strip(x) for x in v]
    return v


def content(path):
    """The comparable content of an output file: its lines, volatile members dropped."""
    with open(path, "rb") as f:
        data = f.read()
    out = []
    for line in data.decode("utf-8", "replace").split("\n"):
        try:
            out.append(json.dumps(strip(parse(line)), sort_keys=True))
        except ValueError:
            out.append(line)
    return out


def compared(run):
    """The files whose content a capped run that exits 0 must share with the uncapped run."""
    names = ["out"]
    for dirpath, _, files in os.walk(run):
        for f in files:
            if f.endswith(".plain") or f == "table" or f == "dl":
                names.append(os.path.relpath(os.path.join(dirpath, f), run))
    return sorted(set(names))


def plain_names(run):
    """Segments are named by time: compare the archive's plain segments in order."""
    return sorted(n for n in compared(run) if n.endswith(".plain"))


def main():
    top = sys.argv[1]
    runs = sorted(os.listdir(top))
    for run in runs:
        name, _, cap = run.rpartition(".")
        if cap == "full":
            continue
        d = os.path.join(top, run)
        full = os.path.join(top, name + ".full")
        with open(os.path.join(d, "rc")) as f:
            rc = int(f.read().strip() or "-1")
        with open(os.path.join(d, "err"), "rb") as f:
            err = f.read().decode("utf-8", "replace").strip()
        why = None
        for dirpath, _, files in os.walk(d):
            for f in sorted(files):
                if f in SKIP_NAME or f.endswith(SKIP_SUFFIX):
                    continue
                why = why or judge_file(os.path.join(dirpath, f))
        if why is None and rc != 0 and not err:
            why = "exit %d with nothing on stderr" % rc
        if why is None and rc >= 128:
            why = "killed by signal %d" % (rc - 128)
        if why is None and rc == 0:
            mine = [n for n in compared(d) if not n.endswith(".plain")]
            theirs = [n for n in compared(full) if not n.endswith(".plain")]
            if mine != theirs:
                why = "exit 0 but wrote %s where the uncapped run wrote %s" % (mine, theirs)
            for n in mine if why is None else []:
                if content(os.path.join(d, n)) != content(os.path.join(full, n)):
                    why = "exit 0 but %s differs from the uncapped run's" % n
                    break
            if why is None:
                a = sum((content(os.path.join(d, n)) for n in plain_names(d)), [])
                b = sum((content(os.path.join(full, n)) for n in plain_names(full)), [])
                if a != b:
                    why = "exit 0 but the archive holds other records than the uncapped run's"
        if why:
            print("bad %s %s" % (run, why))
        elif rc == 0:
            print("ok %s" % run)
        else:
            print("fail %s %s" % (run, err.split("\n")[-1][:200]))


main()
