"""Print what tools/catalog.ts needs from a vLLM wheel, as JSON.

Usage: python wheel_info.py <vllm-X-*.whl>
The wheel is a zip: its METADATA gives the version and the requirements
(torch's pin decides the virtualenv), and vllm/_version.py, written by
setuptools-scm when the release was built, names the commit.
"""

import json
import re
import sys
import zipfile


def main(path):
    with zipfile.ZipFile(path) as z:
        meta_name = next(n for n in z.namelist() if n.endswith(".dist-info/METADATA"))
        meta = z.read(meta_name).decode()
        version_py = z.read("vllm/_version.py").decode()
    fields = {"Requires-Dist": [], "Version": None, "Requires-Python": None}
    for line in meta.split("\n\n", 1)[0].splitlines():
        key, _, value = line.partition(": ")
        if key == "Requires-Dist":
            fields[key].append(value)
        elif key in fields:
            fields[key] = value
    # _version.py holds `commit_id = 'g<sha>'` (setuptools-scm) or nothing.
    commit = re.search(r"commit_id\s*=\s*['\"]([^'\"]+)['\"]", version_py)
    print(json.dumps({
        "version": fields["Version"],
        "requiresPython": fields["Requires-Python"],
        "requiresDist": fields["Requires-Dist"],
        "commit": commit.group(1) if commit else None,
    }, indent=1))


if __name__ == "__main__":
    main(sys.argv[1])
