/** A topology graph as Mermaid (`flowchart LR`) or Graphviz DOT text. */
import { safeId, type GraphService, type TopologyGraph } from "./types.js";

const esc = (s: string): string => s.replace(/"/g, "#quot;");

function serviceText(s: GraphService): string {
  if (s.external) return `${s.id}<br/>external, not deployed<br/>${s.image}`;
  const what = s.task ? `${s.kind}, runs once` : `${s.kind} ×${s.replicas}`;
  return `${s.id}<br/>${what}<br/>${s.image}`;
}

export function toMermaid(g: TopologyGraph): string {
  const lines = ["flowchart LR"];
  if (g.entry && g.published.length > 0) lines.push(`  ${g.entry.id}(["${esc(g.entry.label)}"])`);
  for (const s of g.services.filter((x) => x.external)) lines.push(`  ${safeId(s.id)}[["${esc(serviceText(s))}"]]`);
  lines.push(`  subgraph boundary["${esc(g.boundary)}"]`);
  for (const s of g.services.filter((x) => !x.external)) lines.push(`    ${safeId(s.id)}["${esc(serviceText(s))}"]`);
  for (const v of g.volumes) lines.push(`    ${v.id}[("${esc(v.label)}")]`);
  lines.push("  end");
  for (const p of g.published) lines.push(`  ${p.from} -->|"${esc(p.label)}"| ${safeId(p.to)}`);
  const arrow = g.enforced ? "-->" : "-.->";
  for (const e of g.edges) lines.push(`  ${safeId(e.from)} ${arrow}|"${esc(e.label)}"| ${safeId(e.to)}`);
  for (const v of g.volumes) lines.push(`  ${safeId(v.service)} --- ${v.id}`);
  return lines.join("\n");
}

const dq = (s: string): string => `"${s.replace(/\\/g, "\\\\").replace(/"/g, '\\"')}"`;

export function toDot(g: TopologyGraph): string {
  const lines = [`digraph ${dq(g.stack)} {`, "  rankdir=LR;", "  node [shape=box, fontname=Helvetica];"];
  if (g.entry && g.published.length > 0) lines.push(`  ${g.entry.id} [label=${dq(g.entry.label)}, shape=oval];`);
  const dotText = (s: GraphService) => serviceText(s).split("<br/>").map((l) => dq(l).slice(1, -1)).join("\\n");
  for (const s of g.services.filter((x) => x.external)) lines.push(`  ${safeId(s.id)} [label="${dotText(s)}", style=dashed];`);
  lines.push("  subgraph cluster_boundary {", `    label=${dq(g.boundary)};`);
  // `\n` inside a DOT string is its centred line break.
  for (const s of g.services.filter((x) => !x.external)) lines.push(`    ${safeId(s.id)} [label="${serviceText(s).split("<br/>").map((l) => dq(l).slice(1, -1)).join("\\n")}"];`);
  for (const v of g.volumes) lines.push(`    ${v.id} [label=${dq(v.label)}, shape=cylinder];`);
  lines.push("  }");
  for (const p of g.published) lines.push(`  ${p.from} -> ${safeId(p.to)} [label=${dq(p.label)}];`);
  const style = g.enforced ? "" : ", style=dashed";
  for (const e of g.edges) lines.push(`  ${safeId(e.from)} -> ${safeId(e.to)} [label=${dq(e.label)}${style}];`);
  for (const v of g.volumes) lines.push(`  ${safeId(v.service)} -> ${v.id} [arrowhead=none];`);
  lines.push("}");
  return lines.join("\n");
}
