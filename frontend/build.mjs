// Compiles GOV.UK Frontend's Sass with the fund's theme into the committed stylesheet, writes the
// template of /theme.css, and copies GOV.UK Frontend's JavaScript module. Run by `make assets`.
//
// A fund changes its colours by settings, without Node.js: the stylesheet is compiled a second time
// with other brand colours, and every declaration that changes is a brand declaration. Each of its
// colours is the brand colour, the dark brand colour, or a tint or shade of one of them; it is
// written as a CSS custom property with the default as fallback (`var(--assure-brand-tint-95,
// #f4f7f9)`), and /theme.css sets those properties from settings (Python computes the tints and
// shades: assure/core/theme.py). The cascade, focus states included, is GOV.UK's own.
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import * as sass from "sass";

const here = dirname(fileURLToPath(import.meta.url));
const assure = join(here, "..", "assure");
const staticDir = join(assure, "static", "assure");
const govuk = join(here, "node_modules", "govuk-frontend");
const { version } = JSON.parse(readFileSync(join(govuk, "package.json"), "utf8"));
const banner = `/*! GOV.UK Frontend ${version} | MIT License | (c) Crown copyright */\n`;

// The defaults, as in src/assure.scss and settings.ASSURE_THEME.
const DEFAULT = { brand: "#1d5c8c", brand_dark: "#123a59" };
// Any other pair whose tints and shades never collide with the defaults' ones.
const PROBE = { brand: "#8c1d5c", brand_dark: "#591236" };

function compile(colours, style) {
  const source = readFileSync(join(here, "src", "assure.scss"), "utf8")
    .replaceAll(DEFAULT.brand, colours.brand)
    .replaceAll(DEFAULT.brand_dark, colours.brand_dark);
  return sass.compileString(source, {
    style,
    loadPaths: [join(here, "src"), join(here, "node_modules")],
    // GOV.UK Frontend 5 is written with @import and global functions, which Dart Sass now warns
    // about; the warnings are theirs.
    quietDeps: true,
    silenceDeprecations: ["import", "global-builtin", "slash-div", "if-function"],
  }).css;
}

const hex = (rgb) => "#" + rgb.map((c) => c.toString(16).padStart(2, "0")).join("");
const rgbOf = (h) => [1, 3, 5].map((i) => parseInt(h.slice(i, i + 2), 16));
// Sass's mix() for opaque colours: weight of the first colour, rounded per channel.
const mix = (a, b, weight) => hex(a.map((c, i) => Math.round(c * weight + b[i] * (1 - weight))));

function nameOf(colour, colours) {
  for (const key of ["brand", "brand_dark"]) {
    const base = rgbOf(colours[key]);
    if (colour === colours[key]) return key;
    for (let p = 1; p < 100; p++) {
      if (mix([255, 255, 255], base, p / 100) === colour) return `${key}_tint_${p}`;
      if (mix([0, 0, 0], base, p / 100) === colour) return `${key}_shade_${p}`;
    }
  }
  return null;
}

const cssName = (name) => `--assure-${name.replaceAll("_", "-")}`;

// The stylesheet with its brand colours as custom properties, and the names of those properties.
function themedStylesheet() {
  const ours = compile(DEFAULT, "expanded").split("\n");
  const probe = compile(PROBE, "expanded").split("\n");
  if (ours.length !== probe.length) throw new Error("brand colours changed the stylesheet's shape");
  const names = new Set();
  const themed = ours.map((line, i) => {
    if (line === probe[i]) return line;
    const theirs = probe[i].match(/#[0-9a-f]{6}/g) || [];
    let n = 0;
    return line.replace(/#[0-9a-f]{6}/g, (colour) => {
      const name = nameOf(colour, DEFAULT);
      if (!name || name !== nameOf(theirs[n++], PROBE)) {
        throw new Error(`cannot name ${colour} in line ${i + 1}: ${line.trim()}`);
      }
      names.add(name);
      return `var(${cssName(name)}, ${colour})`;
    });
  });
  const css = sass.compileString(themed.join("\n"), { syntax: "css", style: "compressed" }).css;
  return { css, names: [...names].sort() };
}

function themeTemplate(names) {
  const properties = names.map((name) => `  ${cssName(name)}: {{ ${name} }};`);
  return [
    "{% autoescape off %}/* The fund's colours (settings.ASSURE_THEME); written by frontend/build.mjs. */",
    ":root {",
    ...properties,
    "}",
    "{% endautoescape %}",
    "",
  ].join("\n");
}

mkdirSync(join(staticDir, "css"), { recursive: true });
mkdirSync(join(staticDir, "js"), { recursive: true });
const { css, names } = themedStylesheet();
// Sass marks non-ASCII output with a byte-order mark, which must stay the file's first bytes.
const bom = css.startsWith("\uFEFF") ? "\uFEFF" : "";
writeFileSync(join(staticDir, "css", "assure.css"), bom + banner + css.replace(/^\uFEFF/, "") + "\n");
writeFileSync(join(assure, "templates", "core", "theme.css"), themeTemplate(names));

const js = readFileSync(join(govuk, "dist", "govuk", "govuk-frontend.min.js"), "utf8").replace(
  /\/\/# sourceMappingURL=.*$/m,
  "",
);
writeFileSync(join(staticDir, "js", "govuk-frontend.min.js"), banner + js.trimEnd() + "\n");
console.log(`assure.css: ${css.length} bytes (GOV.UK Frontend ${version}); theme.css template written`);
