/**
 * When a vLLM release reached PyPI. The JSON API's `upload_time_iso_8601`
 * when it answers, else the simple API (PEP 691 JSON, `upload-time` per
 * file, PEP 700). The parsing is pure; `uploadTime` does the requests.
 */

/** The earliest upload time of the version's files in a PyPI JSON API answer (/pypi/vllm/<v>/json). */
export function uploadTimeFromJsonApi(body: { urls?: { upload_time_iso_8601?: string }[] }): string | undefined {
  const times = (body.urls ?? []).map((u) => u.upload_time_iso_8601).filter((t): t is string => !!t);
  return times.sort()[0];
}

/** The earliest upload time of `vllm-<version>` files in a simple API answer (/simple/vllm/, JSON). */
export function uploadTimeFromSimpleApi(body: { files?: { filename: string; "upload-time"?: string }[] }, version: string): string | undefined {
  // A file of this version: "vllm-0.21.0-1-cp38-...whl", "vllm-0.21.0.tar.gz"; never "vllm-0.21.0.1-...".
  const re = new RegExp(`^vllm-${version.replace(/\./g, "\\.")}(?:-|\\.tar\\.gz$)`);
  const times = (body.files ?? []).filter((f) => re.test(f.filename)).map((f) => f["upload-time"]).filter((t): t is string => !!t);
  return times.sort()[0];
}

/** The release's upload time (ISO 8601, UTC) and which API said so. */
export async function uploadTime(version: string): Promise<{ time: string; from: string }> {
  const tried: string[] = [];
  try {
    const r = await fetch(`https://pypi.org/pypi/vllm/${version}/json`, { signal: AbortSignal.timeout(30_000) });
    if (r.ok) {
      const t = uploadTimeFromJsonApi((await r.json()) as Parameters<typeof uploadTimeFromJsonApi>[0]);
      if (t) return { time: t, from: `https://pypi.org/pypi/vllm/${version}/json upload_time_iso_8601` };
    }
    tried.push(`JSON API: HTTP ${r.status}`);
  } catch (e) {
    tried.push(`JSON API: ${(e as Error).message}`);
  }
  const r = await fetch("https://pypi.org/simple/vllm/", { headers: { Accept: "application/vnd.pypi.simple.v1+json" }, signal: AbortSignal.timeout(60_000) });
  if (!r.ok) throw new Error(`PyPI: ${tried.join("; ")}; simple API: HTTP ${r.status}`);
  const t = uploadTimeFromSimpleApi((await r.json()) as Parameters<typeof uploadTimeFromSimpleApi>[0], version);
  if (!t) throw new Error(`PyPI lists no file of vllm ${version}`);
  return { time: t, from: `https://pypi.org/simple/vllm/ upload-time (the JSON API did not answer: ${tried.join("; ")})` };
}
