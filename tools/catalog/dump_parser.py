"""Dump the `vllm serve` argparse parser of the vLLM on sys.path as JSON.

Run by tools/catalog.ts inside a throwaway virtualenv that holds one release's
wheel. It builds the real parser (the serve sub-command under a top-level
FlexibleArgumentParser, as vllm/entrypoints/cli/main.py does) and prints every
action as plain data. It interprets nothing: turning this dump into a flag
table is tools/catalog/fromDump.ts, a pure function with unit tests.

Usage: python dump_parser.py > dump.json
Exit 3 with {"missingModule": name} on stdout when an import fails for want of
a module, so the caller can install what vLLM's import demands and retry.
"""

import argparse
import contextlib
import inspect
import io
import json
import os
import re
import sys
import typing

# No GPU here: the CPU platform lets the config dataclasses build their
# defaults. No in-tree platform adds flags (pre_register_and_update), so the
# flag set is the CUDA one.
os.environ.setdefault("VLLM_TARGET_DEVICE", "cpu")
os.environ.setdefault("VLLM_LOGGING_LEVEL", "ERROR")
# vLLM reads the config classes' docstrings into help texts only when argv
# held "--help" as arg_utils was imported (NEEDS_HELP); we want them, to see
# which flags say they are deprecated. Each parser is then built with its own
# argv (serve_parser).
sys.argv = ["vllm", "serve", "--help"]

CALLERS = {}
CONFIG_FILES = {}
# Actions are keyed by id(); keeping every one alive means no id is reused
# by a later action (the top-level parsers are dropped between builds).
SEEN_ACTIONS = []
# Marks the kwargs vLLM derives from a config dataclass (get_kwargs), so the
# flag is attributed to that class's file; popped before argparse sees it.
MARK = "_myia_config_file"


def record_callers():
    """Remember which vLLM file called add_argument for each action."""
    original = argparse._ActionsContainer.add_argument

    def add_argument(self, *args, **kwargs):
        config_file = kwargs.pop(MARK, None)
        action = original(self, *args, **kwargs)
        SEEN_ACTIONS.append(action)
        if config_file:
            CONFIG_FILES[id(action)] = config_file
        for frame in inspect.stack()[1:]:
            path = frame.filename.replace(os.sep, "/")
            if "/vllm/" in path and not path.endswith("/argparse_utils.py") and not path.endswith("/vllm/utils/__init__.py"):
                CALLERS[id(action)] = "vllm/" + path.rsplit("/vllm/", 1)[1]
                break
        return action

    argparse._ActionsContainer.add_argument = add_argument


def describe_type(fn, depth=0):
    """A type callable as data: its qualified name and the callables it wraps."""
    if fn is None:
        return None
    if isinstance(fn, type):
        return {"name": fn.__module__ + ":" + fn.__qualname__}
    name = getattr(fn, "__module__", "?") + ":" + getattr(fn, "__qualname__", repr(fn))
    out = {"name": name}
    wrapped = []
    if depth < 3:
        for cell in getattr(fn, "__closure__", None) or ():
            try:
                inner = cell.cell_contents
            except ValueError:
                continue
            if callable(inner):
                wrapped.append(describe_type(inner, depth + 1))
    if wrapped:
        out["wraps"] = wrapped
    if depth == 0 and "<lambda>" in name:
        out["probes"] = probe(fn)
    return out


# Inputs a type callable is tried on when its name says nothing (a lambda):
# what it accepts, and whether it rewrites the text.
PROBES = ["abc", "AB-c", "7", "x7", "0.5", "{}", "{bad", "1,2", "", "None"]


def probe(fn):
    out = []
    for text in PROBES:
        try:
            value = fn(text)
        except Exception:  # noqa: BLE001 - any failure means argparse refuses it
            out.append({"input": text, "accepted": False})
            continue
        entry = {"input": text, "accepted": True, "result": type(value).__name__}
        if isinstance(value, str):
            entry["text"] = value
        out.append(entry)
    return out


def jsonable(v):
    if v is None or isinstance(v, (bool, int, float, str)):
        return v
    return str(v)


def std_action(action):
    """The argparse class an action is, or derives from."""
    for cls in type(action).__mro__:
        if cls.__module__ == "argparse":
            return cls.__name__
    return type(action).__name__


def known_values():
    """Values vLLM checks after argparse (registries and Literal types)."""
    out = {}
    for mod in ("vllm.tool_parsers", "vllm.entrypoints.openai.tool_parsers"):
        try:
            m = __import__(mod, fromlist=["ToolParserManager"])
            mgr = m.ToolParserManager
        except (ImportError, AttributeError):
            continue
        names = set(getattr(mgr, "tool_parsers", {})) | set(getattr(mgr, "lazy_parsers", {}))
        out["toolCallParsers"] = {"from": mod + ".ToolParserManager", "values": sorted(names)}
        break
    try:
        from vllm.model_executor.layers.quantization import QUANTIZATION_METHODS

        out["quantizationMethods"] = {"from": "vllm.model_executor.layers.quantization.QUANTIZATION_METHODS", "values": list(QUANTIZATION_METHODS)}
    except ImportError:
        pass
    try:
        import vllm.config.parallel as parallel

        out["distributedExecutorBackends"] = {"from": "vllm.config.parallel.DistributedExecutorBackend", "values": list(typing.get_args(parallel.DistributedExecutorBackend))}
    except (ImportError, AttributeError):
        pass
    try:
        import vllm.config.cache as cache

        if hasattr(cache, "KV_CACHE_DTYPES"):
            out["kvCacheDtypes"] = {"from": "vllm.config.cache.KV_CACHE_DTYPES", "values": list(cache.KV_CACHE_DTYPES)}
    except ImportError:
        pass
    return out


def main():
    record_callers()
    import vllm
    import vllm.platforms as platforms

    # Before anything imports `current_platform`: modules bind it at import
    # time, and without a GPU vLLM resolves none (before 0.34,
    # VLLM_TARGET_DEVICE alone does not pick the CPU platform).
    if getattr(platforms, "_current_platform", None) is None:
        from vllm.platforms.cpu import CpuPlatform

        platforms._current_platform = CpuPlatform()
    mark_config_kwargs()
    from vllm.entrypoints.cli.serve import ServeSubcommand

    try:
        from vllm.utils.argparse_utils import FlexibleArgumentParser
    except ImportError:
        from vllm.utils import FlexibleArgumentParser

    serve = serve_parser(ServeSubcommand, FlexibleArgumentParser, ["vllm", "serve"])
    # vLLM leaves some flags out when help is asked for (--model): build the
    # parser again as `vllm serve --help` would, to see which.
    with_help = serve_parser(ServeSubcommand, FlexibleArgumentParser, ["vllm", "serve", "--help"])
    # vLLM fills in help texts only when help is asked for, too.
    shown = {tuple(a.option_strings): a.help for a in with_help._actions}
    sys.argv = ["vllm", "serve"]

    group_of = {}
    groups = []
    for g in serve._action_groups:
        groups.append({"title": g.title, "file": group_file(g.title)})
        for a in g._group_actions:
            group_of[id(a)] = g.title
    deprecated = {id(a) for a in getattr(serve, "_deprecated", ())}
    # Every string argparse matches to an action, including the ones an
    # action hides from help (0.34's --no-enable-x next to --disable-x).
    accepted = {}
    for text, a in serve._option_string_actions.items():
        accepted.setdefault(id(a), []).append(text)
    actions = []
    for a in serve._actions:
        actions.append({
            "optionStrings": list(a.option_strings),
            "acceptedStrings": accepted.get(id(a), []),
            "dest": a.dest,
            "actionClass": type(a).__module__ + ":" + type(a).__qualname__,
            "argparseClass": std_action(a),
            "type": describe_type(a.type),
            "nargs": a.nargs,
            "const": jsonable(a.const),
            "choices": None if a.choices is None else [jsonable(c) for c in a.choices],
            "helpSuppressed": a.help == argparse.SUPPRESS,
            "hiddenFromHelp": bool(a.option_strings) and tuple(a.option_strings) not in shown,
            "helpSaysDeprecated": says_deprecated(shown.get(tuple(a.option_strings))),
            "deprecated": id(a) in deprecated or bool(getattr(a, "deprecated", False)),
            "group": group_of.get(id(a)),
            "addedBy": CALLERS.get(id(a)),
            "configFile": CONFIG_FILES.get(id(a)),
        })
    subcommands = top_level_subcommands()
    version_mod = sys.modules.get("vllm._version")
    if version_mod is None:
        import vllm._version as version_mod
    print(json.dumps({
        "vllm": vllm.__version__,
        "commit": getattr(version_mod, "commit_id", None) or getattr(version_mod, "__commit_id__", None),
        "python": ".".join(map(str, sys.version_info[:3])),
        "prog": serve.prog,
        "parserFile": "vllm/" + inspect.getsourcefile(FlexibleArgumentParser).replace(os.sep, "/").rsplit("/vllm/", 1)[1],
        "usage": serve.usage,
        "groups": groups,
        "actions": actions,
        "knownValues": known_values(),
        "subcommands": subcommands,
    }, indent=1))


def top_level_subcommands():
    """The sub-commands `vllm` registers, in its order: main() run as `vllm --help`."""
    names = []
    top = []
    original = argparse._SubParsersAction.add_parser

    def add_parser(self, name, **kwargs):
        # main() adds its sub-parsers action first; later ones belong to a
        # sub-command (`vllm snapshot create`, ...).
        if not top:
            top.append(self)
        if self is top[0]:
            names.append(name)
        return original(self, name, **kwargs)

    argparse._SubParsersAction.add_parser = add_parser
    sys.argv = ["vllm", "--help"]
    try:
        from vllm.entrypoints.cli.main import main as vllm_main

        with contextlib.redirect_stdout(io.StringIO()):
            vllm_main()
    except SystemExit:
        pass
    finally:
        argparse._SubParsersAction.add_parser = original
        sys.argv = ["vllm", "serve"]
    return names


def vllm_path(obj):
    """A vLLM object's source file, as vllm/..."""
    path = inspect.getsourcefile(obj).replace(os.sep, "/")
    return "vllm/" + path.rsplit("/vllm/", 1)[1]


def mark_config_kwargs():
    """Tag every kwargs dict get_kwargs(ConfigClass) returns with the class's file."""
    import vllm.engine.arg_utils as arg_utils

    original = arg_utils.get_kwargs

    def get_kwargs(cls):
        out = original(cls)
        try:
            path = vllm_path(cls)
        except TypeError:
            return out
        for kwargs in out.values():
            if isinstance(kwargs, dict):
                kwargs[MARK] = path
        return out

    arg_utils.get_kwargs = get_kwargs


def serve_parser(serve_subcommand, parser_class, argv):
    """The `vllm serve` sub-parser, built under a top-level parser as main.py does."""
    sys.argv = argv
    top = parser_class(description="vLLM CLI")
    subparsers = top.add_subparsers(required=False, dest="subparser")
    return serve_subcommand().subparser_init(subparsers)


def says_deprecated(text):
    """Whether a flag's help announces its deprecation (0.21 marks some only there)."""
    if not isinstance(text, str):
        return False
    low = text.strip().lower()
    return low.startswith(("deprecated", "[deprecated]", "(deprecated)")) or "option is deprecated" in low or "is deprecated and will be removed" in low


def group_file(title):
    """The file defining the config class a group is named after, if any."""
    if not title:
        return None
    try:
        import vllm.config as config

        cls = getattr(config, title, None)
        if cls is None:
            return None
        return vllm_path(cls)
    except (TypeError, ImportError):
        return None


if __name__ == "__main__":
    try:
        main()
    except ModuleNotFoundError as e:
        print(json.dumps({"missingModule": e.name, "error": str(e)}))
        sys.exit(3)
    except RuntimeError as e:
        # FastAPI checks for python-multipart itself (0.11's routes use
        # forms): 'Form data requires "python-multipart" to be installed.'
        missing = re.search(r'requires "([A-Za-z0-9._-]+)" to be installed', str(e))
        if not missing:
            raise
        print(json.dumps({"missingModule": missing.group(1), "error": str(e).splitlines()[0]}))
        sys.exit(3)
