/**
 * The repository's import graph, read from the sources without compiling them: every file under
 * the folders tsconfig.json includes, and for each the modules it imports (static, dynamic,
 * re-exports, `require`) with the line of the import.
 *
 * Imports are found with TypeScript's own scanner, so an import-like text inside a string, a
 * template or a comment is not mistaken for one (test fixtures write handler modules as strings).
 */
import { existsSync, readFileSync, readdirSync, statSync } from "node:fs";
import { dirname, join, relative, resolve, sep } from "node:path";
import { SyntaxKind } from "typescript/unstable/ast";
import { createScanner, tokenIsIdentifierOrKeyword } from "typescript/unstable/ast/scanner";

export interface ImportSite {
  readonly specifier: string;
  /** 1-based. */
  readonly line: number;
}

export interface ImportEdge {
  /** Repository-relative, with forward slashes. */
  readonly from: string;
  readonly to: string;
  readonly line: number;
  readonly specifier: string;
}

export interface ImportGraph {
  readonly files: readonly string[];
  /** Imports of files in the repository; packages (`node:fs`, `zod`) are left out. */
  readonly edges: readonly ImportEdge[];
  /** Relative imports that name no file: tsc reports these too, but only for the files it checks. */
  readonly unresolved: readonly ImportEdge[];
}

interface Token {
  readonly kind: SyntaxKind;
  readonly value: string;
  readonly start: number;
}

/** Keywords after which `/` starts a regular expression rather than a division. */
const EXPRESSION_STARTERS = new Set<SyntaxKind>([
  SyntaxKind.ReturnKeyword, SyntaxKind.TypeOfKeyword, SyntaxKind.InstanceOfKeyword, SyntaxKind.InKeyword,
  SyntaxKind.OfKeyword, SyntaxKind.NewKeyword, SyntaxKind.DeleteKeyword, SyntaxKind.VoidKeyword,
  SyntaxKind.ThrowKeyword, SyntaxKind.CaseKeyword, SyntaxKind.DoKeyword, SyntaxKind.ElseKeyword,
  SyntaxKind.YieldKeyword, SyntaxKind.AwaitKeyword,
]);

const ENDS_EXPRESSION = new Set<SyntaxKind>([
  SyntaxKind.NumericLiteral, SyntaxKind.BigIntLiteral, SyntaxKind.StringLiteral, SyntaxKind.RegularExpressionLiteral,
  SyntaxKind.NoSubstitutionTemplateLiteral, SyntaxKind.TemplateTail, SyntaxKind.CloseParenToken,
  SyntaxKind.CloseBracketToken, SyntaxKind.CloseBraceToken, SyntaxKind.PlusPlusToken, SyntaxKind.MinusMinusToken,
]);

function endsExpression(kind: SyntaxKind | undefined): boolean {
  if (kind === undefined) return false;
  return ENDS_EXPRESSION.has(kind) || (tokenIsIdentifierOrKeyword(kind) && !EXPRESSION_STARTERS.has(kind));
}

/** The file's tokens, comments left out, with regular expressions and templates scanned whole. */
function tokenize(text: string): Token[] {
  const scanner = createScanner(true);
  scanner.setText(text);
  const tokens: Token[] = [];
  // What each open `{` belongs to: a block or object, or a `${` inside a template.
  const braces: ("block" | "template")[] = [];
  for (;;) {
    let kind = scanner.scan();
    if (kind === SyntaxKind.EndOfFile) return tokens;
    if ((kind === SyntaxKind.SlashToken || kind === SyntaxKind.SlashEqualsToken) && !endsExpression(tokens.at(-1)?.kind)) {
      kind = scanner.reScanSlashToken();
    } else if (kind === SyntaxKind.CloseBraceToken && braces.at(-1) === "template") {
      kind = scanner.reScanTemplateToken(false);
      if (kind === SyntaxKind.TemplateTail) braces.pop();
    } else if (kind === SyntaxKind.CloseBraceToken) {
      braces.pop();
    } else if (kind === SyntaxKind.OpenBraceToken) {
      braces.push("block");
    } else if (kind === SyntaxKind.TemplateHead) {
      braces.push("template");
    }
    tokens.push({ kind, value: scanner.getTokenValue(), start: scanner.getTokenStart() });
  }
}

/** The module specifiers a file imports, in order. */
export function importsOf(text: string): ImportSite[] {
  const tokens = tokenize(text);
  const lineStarts = [0];
  for (let i = 0; i < text.length; i++) if (text[i] === "\n") lineStarts.push(i + 1);
  const lineAt = (pos: number): number => {
    let lo = 0;
    let hi = lineStarts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (lineStarts[mid]! <= pos) lo = mid;
      else hi = mid - 1;
    }
    return lo + 1;
  };
  const kindAt = (i: number): SyntaxKind | undefined => tokens[i]?.kind;
  const sites: ImportSite[] = [];
  // `import x = require("y")` is seen twice, as an import and as a require: count the string once.
  const taken = new Set<number>();
  const add = (i: number, at: number): void => {
    const token = tokens[i];
    if (token?.kind !== SyntaxKind.StringLiteral || taken.has(i)) return;
    taken.add(i);
    sites.push({ specifier: token.value, line: lineAt(tokens[at]!.start) });
  };
  /** From token i on, the string after `from` (or a bare string, or `require(…)`) before the clause ends. */
  const clause = (i: number, at: number): void => {
    for (let j = i; j < tokens.length; j++) {
      const kind = kindAt(j);
      if (kind === SyntaxKind.FromKeyword) return add(j + 1, at);
      if (kind === SyntaxKind.StringLiteral) return add(j, at);
      if (kind === SyntaxKind.SemicolonToken) return;
    }
  };
  for (let i = 0; i < tokens.length; i++) {
    const kind = kindAt(i);
    const previous = kindAt(i - 1);
    // `x.import`, `x.require`: a property, not a module.
    if (previous === SyntaxKind.DotToken) continue;
    if (kind === SyntaxKind.ImportKeyword) {
      const next = kindAt(i + 1);
      if (next === SyntaxKind.OpenParenToken) add(i + 2, i);
      else if (next !== undefined && IMPORT_CLAUSE_STARTS.has(next)) clause(i + 1, i);
    } else if (kind === SyntaxKind.ExportKeyword) {
      let j = i + 1;
      if (kindAt(j) === SyntaxKind.TypeKeyword) j++;
      if (kindAt(j) === SyntaxKind.AsteriskToken) {
        clause(j + 1, i);
      } else if (kindAt(j) === SyntaxKind.OpenBraceToken) {
        while (j < tokens.length && kindAt(j) !== SyntaxKind.CloseBraceToken) j++;
        if (kindAt(j + 1) === SyntaxKind.FromKeyword) add(j + 2, i);
      }
    } else if (kind === SyntaxKind.RequireKeyword && kindAt(i + 1) === SyntaxKind.OpenParenToken) {
      add(i + 2, i);
    }
  }
  return sites;
}

/** What may follow `import` in a declaration; anything else (`import.meta`, `{ import: 1 }`) is not one. */
const IMPORT_CLAUSE_STARTS = new Set<SyntaxKind>([
  SyntaxKind.StringLiteral, SyntaxKind.Identifier, SyntaxKind.OpenBraceToken, SyntaxKind.AsteriskToken, SyntaxKind.TypeKeyword,
]);

const SOURCE = /\.(ts|mts|cts|js|mjs|cjs)$/;

function sourcesUnder(root: string, dir: string): string[] {
  const path = join(root, dir);
  if (!existsSync(path)) return [];
  if (!statSync(path).isDirectory()) return SOURCE.test(dir) ? [dir] : [];
  return readdirSync(path).flatMap((name) =>
    name === "node_modules" || name.startsWith(".") ? [] : sourcesUnder(root, `${dir}/${name}`),
  );
}

/** `./x.js` names `x.ts` in the sources (NodeNext); a file that exists as written wins. */
function resolveFile(root: string, fromFile: string, specifier: string): string | undefined {
  const absolute = resolve(root, dirname(fromFile), specifier);
  const candidates = [absolute, absolute.replace(/\.js$/, ".ts"), absolute.replace(/\.mjs$/, ".mts"), absolute.replace(/\.cjs$/, ".cts")];
  const found = candidates.find((c) => existsSync(c) && statSync(c).isFile());
  return found === undefined ? undefined : relative(root, found).split(sep).join("/");
}

/** The package's own name with its `exports` map: `jobstack/worker` is a file in the repository. */
function selfReferences(root: string): Map<string, string> {
  const pkg = JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as { name: string; exports?: Record<string, string> };
  const map = new Map<string, string>();
  for (const [subpath, target] of Object.entries(pkg.exports ?? {})) {
    map.set(subpath === "." ? pkg.name : `${pkg.name}/${subpath.replace(/^\.\//, "")}`, target.replace(/^\.\//, ""));
  }
  return map;
}

/** The graph of the folders (and files) tsconfig.json includes. */
export function readImportGraph(root: string): ImportGraph {
  const tsconfig = JSON.parse(readFileSync(join(root, "tsconfig.json"), "utf8")) as { include: string[] };
  const files = tsconfig.include.flatMap((dir) => sourcesUnder(root, dir)).sort();
  const self = selfReferences(root);
  const edges: ImportEdge[] = [];
  const unresolved: ImportEdge[] = [];
  for (const from of files) {
    for (const { specifier, line } of importsOf(readFileSync(join(root, from), "utf8"))) {
      const relativeImport = specifier.startsWith("./") || specifier.startsWith("../");
      const to = relativeImport ? resolveFile(root, from, specifier) : self.get(specifier);
      if (to !== undefined) edges.push({ from, to, line, specifier });
      else if (relativeImport) unresolved.push({ from, to: specifier, line, specifier });
    }
  }
  return { files, edges, unresolved };
}
