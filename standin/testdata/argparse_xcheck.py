"""Parses command lines with CPython's own argparse, set up from a stand-in
flag table the way vLLM sets up `vllm serve` (types wrapped like vLLM's
parse_type/optional_type/human_readable_int), and prints what argparse did.

Used by standin/vllm/argparse/xcheck_test.go to hold the Go parser to
CPython's behaviour. Only argparse proper: the cases avoid vLLM's
pre-processing (underscores, dotted keys, -O), which the Go tests cover.

    python3 argparse_xcheck.py TABLE.json < cases.json > results.json
"""
import argparse
import contextlib
import io
import json
import re
import sys


def parse_type(return_type):
    def _parse_type(val):
        try:
            return return_type(val)
        except ValueError as e:
            raise argparse.ArgumentTypeError(f"Value {val} cannot be converted to {return_type}.") from e
    return _parse_type


def optional_type(return_type):
    def _optional_type(val):
        if val == "" or val == "None":
            return None
        return parse_type(return_type)(val)
    return _optional_type


def human_readable_int(value):
    value = value.strip()
    match = re.fullmatch(r"(\d+(?:\.\d+)?)([kKmMgGtT])", value)
    if match:
        number, suffix = match.groups()
        decimal = {"k": 10**3, "m": 10**6, "g": 10**9}
        binary = {"K": 2**10, "M": 2**20, "G": 2**30}
        if suffix in decimal:
            return int(float(number) * decimal[suffix])
        if suffix in binary:
            try:
                return int(number) * binary[suffix]
            except ValueError as e:
                raise argparse.ArgumentTypeError(
                    f"Decimals are not allowed with binary suffixes like {suffix}. "
                    f"Did you mean to use {number}{suffix.lower()} instead?") from e
    return int(value)


TYPES = {"str": str, "int": int, "float": float, "json": parse_type(json.loads), "human_int": human_readable_int}


def build(table):
    top = argparse.ArgumentParser(prog="vllm")
    top.add_argument("-v", "--version", action="version", version=table["vllm"])
    subs = top.add_subparsers(required=False, dest="subparser")
    serve = subs.add_parser("serve", usage="vllm serve [model_tag] [options]")
    for p in table.get("positional") or [{"name": "model_tag", "nargs": "?"}]:
        serve.add_argument(p["name"], nargs=p.get("nargs"))
    for o in table["options"]:
        action = o.get("action", "store")
        kw = {}
        names = o["names"]
        if action == "boolean_optional":
            kw["action"] = argparse.BooleanOptionalAction
            names = [n for n in names if not n.startswith("--no-")]
        elif action in ("store_true", "store_false", "help", "version"):
            if action == "help":
                continue
            kw["action"] = action
        else:
            f = TYPES[o.get("type") or "str"]
            kw["type"] = optional_type(f) if o.get("nullable") else f
            if o.get("nargs") is not None:
                kw["nargs"] = o["nargs"]
            if o.get("choices"):
                kw["choices"] = o["choices"]
            if action == "append":
                kw["action"] = "append"
        serve.add_argument(*names, **kw)
    return top


def main():
    table = json.load(open(sys.argv[1]))
    top = build(table)
    out = []
    for case in json.load(sys.stdin):
        err, so, code = io.StringIO(), io.StringIO(), 0
        try:
            with contextlib.redirect_stderr(err), contextlib.redirect_stdout(so):
                top.parse_args(["serve"] + case)
        except SystemExit as e:
            code = e.code or 0
        msg = err.getvalue()
        # Python < 3.12.8 quotes choices; the vLLM images' Python (3.12, recent) does not.
        msg = re.sub(r"\(choose from ([^)]*)\)", lambda m: "(choose from " + m.group(1).replace("'", "") + ")", msg)
        msg = re.sub(r" at 0x[0-9a-f]+>", " at 0x>", msg)
        msg = msg.replace("usage: vllm [-h] [-v] {serve} ...", "usage: vllm [-h] [-v] {SUBCOMMANDS} ...")
        out.append({"code": code, "stderr": msg if code else "", "help": "usage:" in so.getvalue()})
    json.dump(out, sys.stdout)


main()
