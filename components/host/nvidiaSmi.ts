/**
 * Parsers for `nvidia-smi --format=csv` output. Pure: text in, records out.
 * Memory figures are MiB, as nvidia-smi reports them with `nounits`; the
 * header/units form (`--format=csv`) is accepted too.
 */

/** The fields GpuHost queries, in order. */
export const GPU_QUERY_FIELDS = [
  "index",
  "uuid",
  "name",
  "memory.total",
  "memory.used",
  "memory.free",
  "driver_version",
  "compute_cap",
  "pci.bus_id",
] as const;

export const APPS_QUERY_FIELDS = ["pid", "gpu_uuid", "used_memory"] as const;

export const GPU_QUERY = `nvidia-smi --query-gpu=${GPU_QUERY_FIELDS.join(",")} --format=csv,noheader,nounits`;
export const APPS_QUERY = `nvidia-smi --query-compute-apps=${APPS_QUERY_FIELDS.join(",")} --format=csv,noheader,nounits`;

export interface GpuInfo {
  index: number;
  uuid?: string;
  name?: string;
  memoryTotalMiB: number;
  memoryUsedMiB?: number;
  memoryFreeMiB?: number;
  driverVersion?: string;
  computeCap?: string;
  pciBusId?: string;
}

export interface ComputeApp {
  pid: number;
  gpuUuid: string;
  usedMemoryMiB: number;
}

export class NvidiaSmiParseError extends Error {}

function rows(text: string): string[][] {
  return text
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l.length > 0)
    .map((l) => l.split(",").map((c) => c.trim()));
}

/** "24564 MiB" or "24564" → 24564; "[N/A]" → undefined. */
function mib(cell: string | undefined, what: string, line: number): number | undefined {
  if (cell === undefined || cell === "" || /^\[?N\/A\]?$/i.test(cell)) return undefined;
  const m = /^(\d+(?:\.\d+)?)\s*(MiB)?$/.exec(cell);
  if (!m) throw new NvidiaSmiParseError(`line ${line}: ${what} "${cell}" is not a MiB figure`);
  return Number(m[1]);
}

/** Normalises a header cell: "memory.total [MiB]" → "memory.total". */
function field(header: string): string {
  return header.replace(/\s*\[.*\]$/, "").trim();
}

/**
 * Parses `--query-gpu=...` output. Without a header, the columns are taken to
 * be `fields` (GPU_QUERY_FIELDS by default); with one, the header names them.
 */
export function parseQueryGpu(text: string, fields: readonly string[] = GPU_QUERY_FIELDS): GpuInfo[] {
  let table = rows(text);
  let columns = [...fields];
  if (table.length > 0 && table[0][0] === "index") {
    columns = table[0].map(field);
    table = table.slice(1);
  }
  const at = (r: string[], name: string) => {
    const i = columns.indexOf(name);
    return i < 0 ? undefined : r[i];
  };
  return table.map((r, i) => {
    const line = i + 1;
    if (r.length !== columns.length) {
      throw new NvidiaSmiParseError(`line ${line}: expected ${columns.length} columns (${columns.join(", ")}), got ${r.length}`);
    }
    const index = Number(at(r, "index"));
    if (!Number.isInteger(index) || index < 0) throw new NvidiaSmiParseError(`line ${line}: GPU index "${at(r, "index")}" is not a number`);
    const total = mib(at(r, "memory.total"), "memory.total", line);
    if (total === undefined) throw new NvidiaSmiParseError(`line ${line}: memory.total is missing`);
    return {
      index,
      uuid: at(r, "uuid"),
      name: at(r, "name"),
      memoryTotalMiB: total,
      memoryUsedMiB: mib(at(r, "memory.used"), "memory.used", line),
      memoryFreeMiB: mib(at(r, "memory.free"), "memory.free", line),
      driverVersion: at(r, "driver_version"),
      computeCap: at(r, "compute_cap"),
      pciBusId: at(r, "pci.bus_id"),
    };
  });
}

/** Parses `--query-compute-apps=pid,gpu_uuid,used_memory` output. */
export function parseComputeApps(text: string): ComputeApp[] {
  return rows(text).map((r, i) => {
    if (r.length !== 3) throw new NvidiaSmiParseError(`line ${i + 1}: expected pid, gpu_uuid, used_memory`);
    const pid = Number(r[0]);
    if (!Number.isInteger(pid)) throw new NvidiaSmiParseError(`line ${i + 1}: pid "${r[0]}" is not a number`);
    return { pid, gpuUuid: r[1], usedMemoryMiB: mib(r[2], "used_memory", i + 1) ?? 0 };
  });
}
