#!/usr/bin/env -S node --max-semi-space-size=8 --initial-old-space-size=128
// A small young generation: V8 sizes it for the machine (up to 64 MiB a semi-space here), which
// costs serve and the workers 100+ MiB of resident memory for no measurable CPU gain.
// An initial old-generation limit well above serve's live heap (about 20 MiB): with V8's own, the
// limit can settle a few MiB above the live heap and serve then runs a full collection about five
// times a second for the whole run (seen in about half the runs of `--trace-gc` under load).
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
