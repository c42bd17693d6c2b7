// Run after `napi build` (npm run build): napi's loader (index.js) looks for the platform packages
// as `leaseq-<platform>`; ours are published under the npm scope as `@leaseq/<platform>`
// (npm/<platform>/package.json), which napi's naming (`<name>-<platform>`) cannot express.
import { readFileSync, writeFileSync } from 'node:fs'

const loader = new URL('../index.js', import.meta.url)
const before = readFileSync(loader, 'utf8')
const after = before.replace(/'leaseq-([a-z0-9]+(?:-[a-z0-9]+)*)(['/])/g, "'@leaseq/$1$2")
if (!after.includes("require('@leaseq/linux-x64-gnu')")) {
  throw new Error('scope-loader: index.js does not load @leaseq/linux-x64-gnu: did napi change its loader?')
}
if (after !== before) writeFileSync(loader, after)
