#!/usr/bin/env -S node --import tsx
const major = Number(process.versions.node.split('.')[0])
if (major < 22) {
  process.stderr.write(`logbench needs Node.js >= 22 but this is ${process.version}; use "npx" or "npm run" inside the repository.\n`)
  process.exit(3)
}

const {execute} = await import('@oclif/core')
await execute({development: true, dir: import.meta.url})
