#!/usr/bin/env -S node --max-semi-space-size=8
// A small young generation: V8 sizes it for the machine (up to 64 MiB a semi-space here), which
// costs serve and the workers 100+ MiB of resident memory for no measurable CPU gain.
// Plain JavaScript that any Node can parse, so an old Node gets a clear message instead of a stack trace.
const major = Number(process.versions.node.split('.')[0])
if (major < 22) {
  process.stderr.write(
    `logbench needs Node.js >= 22 but this is ${process.version}. ` +
      'Inside the repository run it as "npx logbench ..." or "npm run ...", which use the pinned Node 24; ' +
      'elsewhere install Node 22 or newer.\n',
  )
  process.exit(3)
}

const {execute} = await import('@oclif/core')
await execute({dir: import.meta.url})
