/** Plain-text tables for terminal output; columns sized to their widest cell. */
export function renderTable(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (cells: readonly string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i] ?? 0)))
      .join("  ")
      .trimEnd();
  return [line(header), line(widths.map((w) => "-".repeat(w))), ...rows.map(line)].join("\n");
}

/**
 * The same table fitted to `maxWidth` columns: the widest columns after the first (which names the
 * row) give up width first, and cells
 * wrap at spaces (or mid-word when a word is longer than its column), continuing on the next lines.
 */
export function renderFittedTable(header: readonly string[], rows: readonly (readonly string[])[], maxWidth: number): string {
  const gap = 2;
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const total = () => widths.reduce((a, b) => a + b, 0) + gap * (widths.length - 1);
  const floor = 12;
  // The first column names the row; past 36% of the width it wraps too (at its spaces).
  widths[0] = Math.min(widths[0] ?? 0, Math.max(floor, Math.floor(maxWidth * 0.36)));
  while (total() > maxWidth) {
    const rest = widths.slice(1);
    const widest = 1 + rest.indexOf(Math.max(...rest));
    if ((widths[widest] ?? 0) <= floor) break;
    widths[widest]!--;
  }
  const renderRow = (cells: readonly string[]): string[] => {
    const wrapped = cells.map((c, i) => wrap(c, widths[i] ?? c.length));
    const height = Math.max(...wrapped.map((w) => w.length));
    return Array.from({ length: height }, (_, line) =>
      wrapped
        .map((w, i) => (i === wrapped.length - 1 ? (w[line] ?? "") : (w[line] ?? "").padEnd(widths[i] ?? 0)))
        .join(" ".repeat(gap))
        .trimEnd(),
    );
  };
  return [...renderRow(header), renderRow(widths.map((w) => "-".repeat(w)))[0]!, ...rows.flatMap(renderRow)].join("\n");
}

function wrap(text: string, width: number): string[] {
  const lines: string[] = [];
  let line = "";
  for (const word of text.split(" ")) {
    let rest = word;
    while (rest.length > width) {
      // A word longer than the column: finish the current line, then cut the word.
      if (line) lines.push(line);
      line = "";
      lines.push(rest.slice(0, width));
      rest = rest.slice(width);
    }
    if (!line) line = rest;
    else if (line.length + 1 + rest.length <= width) line += ` ${rest}`;
    else {
      lines.push(line);
      line = rest;
    }
  }
  lines.push(line);
  return lines;
}
