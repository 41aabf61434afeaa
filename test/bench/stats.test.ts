import { describe, expect, it } from "vitest";
import { formatMiB, formatMs, formatMsFine, formatRate, formatRatio, formatSpread, interleave, markdownTable, median, ratio, summarize } from "../../bench/lib/stats.js";

describe("median and summarize", () => {
  it("takes the middle sample, or the mean of the middle two, whatever the input order", () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(median([7])).toBe(7);
  });

  it("does not reorder the caller's array", () => {
    const samples = [3, 1, 2];
    median(samples);
    expect(samples).toEqual([3, 1, 2]);
  });

  it("summarises min, max and the relative spread around the median", () => {
    expect(summarize([10, 12, 8, 30, 11])).toEqual({ n: 5, median: 11, min: 8, max: 30, spread: 2 });
    expect(summarize([5]).spread).toBe(0);
    expect(summarize([0, 0]).spread).toBeNaN();
  });

  it("ignores non-finite samples and refuses an empty set", () => {
    expect(summarize([1, Number.NaN, 3, Number.POSITIVE_INFINITY]).n).toBe(2);
    expect(() => median([])).toThrow(/no samples/);
    expect(() => summarize([Number.NaN])).toThrow(/no finite samples/);
  });
});

describe("ratios and formatting", () => {
  it("divides by the baseline and says n/a for a zero baseline", () => {
    expect(ratio(30, 10)).toBe(3);
    expect(formatRatio(ratio(1, 0))).toBe("n/a");
  });

  it("formats ratios with two decimals below 10 and one above", () => {
    expect(formatRatio(1)).toBe("1.00×");
    expect(formatRatio(0.4166)).toBe("0.42×");
    expect(formatRatio(18.04)).toBe("18.0×");
  });

  it("formats times, sizes, rates and spreads for humans", () => {
    expect(formatMs(849.6)).toBe("850 ms");
    expect(formatMs(12_345)).toBe("12.35 s");
    expect(formatMiB(300 * 1024 * 1024)).toBe("300 MB");
    expect(formatRate(62.43)).toBe("62.4/s");
    expect(formatRate(1234.4)).toBe("1,234/s");
    expect(formatSpread(summarize([9, 10, 11]))).toBe("±10%");
  });
});

describe("interleave", () => {
  it("rotates the order every round so no variant always runs first", () => {
    expect(interleave(["a", "b", "c"], 4)).toEqual([
      ["a", "b", "c"],
      ["b", "c", "a"],
      ["c", "a", "b"],
      ["a", "b", "c"],
    ]);
    expect(interleave([], 2)).toEqual([[], []]);
  });
});

describe("markdownTable", () => {
  it("right-aligns numeric columns and escapes pipes", () => {
    expect(markdownTable(["name", "n"], [["a|b", "1"]], [false, true])).toBe("| name | n |\n|---|---:|\n| a\\|b | 1 |");
  });

  it("refuses a row whose width differs from the header", () => {
    expect(() => markdownTable(["a", "b"], [["1"]])).toThrow(/1 cells, header has 2/);
  });
});

describe("formatMsFine", () => {
  it("keeps decimals for the small per-job CPU times", () => {
    expect(formatMsFine(0.614)).toBe("0.61 ms");
    expect(formatMsFine(5.24)).toBe("5.2 ms");
    expect(formatMsFine(123.4)).toBe("123 ms");
  });
});
