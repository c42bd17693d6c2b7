// Run after `napi build` (npm run build): napi's loader (index.js) looks for the platform
// packages as `leaseq-<platform>`; ours are published under the scope as `@leaseq/<platform>`
// (npm/<platform>/package.json), which napi's naming cannot express.
import { readFileSync, writeFileSync } from 'node:fs'

const loader = new URL('../index.js', import.meta.url)
const before = readFileSync(loader, 'utf8')
const after = before.replace(/(['`])leaseq-([a-z0-9]+(?:-[a-z0-9]+)*)(['`/])/g, '$1@leaseq/$2$3')
if (!after.includes("require('@leaseq/linux-x64-gnu')")) {
  throw new Error('scope-loader: index.js does not load @leaseq/linux-x64-gnu: did napi change its loader?')
}
if (after !== before) writeFileSync(loader, after)
